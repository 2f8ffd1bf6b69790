package bolt

// WithDiskRevocations makes IsRevoked read the file in a read transaction
// instead of the in-memory index, as it did before the index: benchmarks
// compare the two.
func WithDiskRevocations() Option {
	return func(c *config) { c.diskRevocations = true }
}
