package memory

// CounterLen returns how many throttling windows s holds.
func CounterLen(s *Store) int {
	s.counters.mu.Lock()
	defer s.counters.mu.Unlock()
	return len(s.counters.m)
}
