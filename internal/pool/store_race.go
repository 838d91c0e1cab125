//go:build race

package pool

import "sync"

// store, under the race detector, is a bounded free list: there sync.Pool
// drops a quarter of what is put back (to shake out code that counts on
// getting it again), which would make the allocation counts the tests
// check random. Nothing here counts on it for correctness.
type store struct {
	mu   sync.Mutex
	free []any
}

// raceKeep bounds what the free list keeps.
const raceKeep = 1024

func (s *store) get() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.free)
	if n == 0 {
		return nil
	}
	x := s.free[n-1]
	s.free[n-1] = nil
	s.free = s.free[:n-1]
	return x
}

func (s *store) put(x any) {
	s.mu.Lock()
	if len(s.free) < raceKeep {
		s.free = append(s.free, x)
	}
	s.mu.Unlock()
}
