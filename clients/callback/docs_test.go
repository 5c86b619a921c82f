package callback

import (
	"os"
	"strings"
	"testing"
)

// docs/batches.md shows these files; what it shows is what is tested.
func TestDocsShowTestedCode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/batches.md")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(ex)
	i := strings.Index(s, "// receiver is a batch callback")
	j := strings.Index(s[i:], "\n}\n")
	if i < 0 || j < 0 {
		t.Fatal("example_test.go lost its receiver")
	}
	snippets := map[string]string{"receiver in example_test.go": s[i : i+j+3]}
	for _, f := range []string{"verify.go", "verify.js", "receiver.js"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		snippets[f] = string(b)
	}
	for name, code := range snippets {
		if !strings.Contains(string(doc), "\n"+code+"```") {
			t.Errorf("docs/batches.md does not show %s as it is", name)
		}
	}
}
