package worker

import (
	"errors"
	"strings"

	"github.com/wxposter/wxposter/poster/budget"
)

// WithRenderLimits sets the budget of each render (zero fields: the
// defaults of package budget). A render over it fails for good with
// render_failed naming the view and the limit: the same template and data
// would exceed it again.
func WithRenderLimits(l budget.Limits) HandlerOption {
	return func(h *Handler) { h.renderLimits = l }
}

// budgetErr turns a render over its budget into a permanent render_failed;
// other errors pass through.
func budgetErr(err error) error {
	var be *budget.Error
	if !errors.As(err, &be) {
		return err
	}
	return &jobErr{code: "render_failed", err: err, permanent: true,
		msg: strings.TrimPrefix(be.Error(), "poster: ") + "; simplify the template or its images"}
}
