// Package pool lends slices of one capacity to owners that need them only
// for a moment: thousands of players each holding a small buffer between
// writes would hold as many buffers as players, where those writing at
// one time need a few.
package pool

// Slices lends slices of T with capacity N. Get and Put carry the slice in
// a pointer kept by the owner (its hold), so neither allocates once the
// pool has what its users need. The zero value is not usable: set N.
type Slices[T any] struct {
	N int
	p store
}

// Get returns an empty slice of capacity N, from the pool when it has
// one. *hold is the pointer the slice came in, for Put.
func (s *Slices[T]) Get(hold **[]T) []T {
	if b, ok := s.TryGet(hold); ok {
		return b
	}
	return make([]T, 0, s.N)
}

// TryGet returns an empty slice of capacity N if the pool has one, and
// false if it has none (it never allocates). *hold is as for Get.
func (s *Slices[T]) TryGet(hold **[]T) ([]T, bool) {
	if h, ok := s.p.get().(*[]T); ok {
		*hold = h
		return (*h)[:0], true
	}
	return nil, false
}

// Put gives b back if its capacity is N (a nil slice, or one grown past N
// for a burst, stays with its owner's own rules) and reports whether it
// did. b must be cleared of anything it should not keep alive. *hold is
// nil afterwards; the first Put of an owner that has none allocates one.
func (s *Slices[T]) Put(hold **[]T, b []T) bool {
	if cap(b) != s.N {
		return false
	}
	h := *hold
	if h == nil {
		h = new([]T)
	}
	*h = b[:0]
	s.p.put(h)
	*hold = nil
	return true
}
