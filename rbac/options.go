package rbac

// Option configures [Guards].
type Option func(*config)

type config struct {
	render Renderer
}

// WithRenderer replaces the function that writes a denial. The default,
// [RenderError], writes gatekeep's RFC 6750 challenge and JSON error body;
// replace it to match an application's own error format. The renderer must
// write a response; the guarded handler is not called either way.
func WithRenderer(fn Renderer) Option {
	return func(c *config) { c.render = fn }
}
