package token

// WithoutFastPath sends every token down the general path, for tests that
// hold the fast path to the general one's answers.
func WithoutFastPath() Option { return func(c *config) { c.noFast = true } }
