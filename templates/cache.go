package templates

import (
	"strconv"
	"sync"
)

// cache holds parsed versions. A version never changes, so entries are
// never stale: they only make room, oldest first, when the cache is full.
type cache struct {
	mu    sync.Mutex
	max   int
	items map[string]*Template
	order []string // insertion order, for eviction
}

func newCache(max int) *cache {
	return &cache{max: max, items: make(map[string]*Template)}
}

func cacheKey(name string, version int) string { return name + "\x00" + strconv.Itoa(version) }

func (c *cache) get(name string, version int) (*Template, bool) {
	if c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.items[cacheKey(name, version)]
	return t, ok
}

func (c *cache) put(t *Template) {
	if c.max <= 0 {
		return
	}
	k := cacheKey(t.Name, t.Version)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		return
	}
	for len(c.order) >= c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.items[k] = t
	c.order = append(c.order, k)
}
