//go:build !race

package pool

import "sync"

// store is a sync.Pool: per-processor caches, emptied by the collector
// when unused.
type store struct{ p sync.Pool }

func (s *store) get() any  { return s.p.Get() }
func (s *store) put(x any) { s.p.Put(x) }
