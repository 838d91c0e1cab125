package rtmp

import (
	"sync/atomic"

	"github.com/ertmp/rtmp/chunk"
)

// MemoryBudget is a server-wide account of the memory that peers make a
// server keep: chunk reassembly buffers (chunk.ReaderConfig.Budget), and
// in a live server GOP caches, player queues and kept data frames. Every
// keeper charges what it holds and releases it when it lets go; when the
// account is full, the newest and largest demands are refused first:
//
//   - Reserve grants a demand of n bytes only while Used+2n stays within
//     the limit: a large message (a 16 MiB key frame) is refused long
//     before a small one, and never takes the last half of what is left.
//     The chunk reader asks it for every buffer growth above
//     chunk.SmallAlloc and fails the connection with chunk.ErrBudget when
//     refused.
//   - Charge always succeeds: the small, steady buffers of streams that
//     work (slabs of small media messages, a packet queued for a player).
//     Over reports when they took the account past its limit; the live
//     hub then trims GOP caches and closes the fattest slow players until
//     the account is back under its limit.
//
// The zero value and a nil *MemoryBudget have no limit and count nothing.
// Its methods are safe for concurrent use and take no lock: one atomic
// operation each.
type MemoryBudget struct {
	limit int64 // immutable; 0: no limit

	used atomic.Int64
	peak atomic.Int64
	// Counters of the budget's decisions (see MemoryBudgetStats).
	refused atomic.Uint64
	trimmed atomic.Uint64
	closed  atomic.Uint64
}

// NewMemoryBudget returns a budget of limit bytes; zero or negative means
// no limit (usage is still counted).
func NewMemoryBudget(limit int64) *MemoryBudget {
	return &MemoryBudget{limit: max(limit, 0)}
}

var _ chunk.Budget = (*MemoryBudget)(nil)

// Limit returns the budget's limit in bytes (0: none).
func (b *MemoryBudget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// Used returns the bytes charged now.
func (b *MemoryBudget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Reserve charges n bytes if Used+2n is within the limit (see
// MemoryBudget), and reports whether it did; a refusal is counted.
func (b *MemoryBudget) Reserve(n int) bool {
	if b == nil || n <= 0 {
		return true
	}
	v := b.used.Add(int64(n))
	if b.limit > 0 && v+int64(n) > b.limit {
		b.used.Add(-int64(n))
		b.refused.Add(1)
		return false
	}
	b.notePeak(v)
	return true
}

// Charge charges n bytes (a negative n releases), whatever the limit.
func (b *MemoryBudget) Charge(n int) {
	if b == nil || n == 0 {
		return
	}
	v := b.used.Add(int64(n))
	if n > 0 {
		b.notePeak(v)
	}
}

// Release gives back n bytes charged before.
func (b *MemoryBudget) Release(n int) {
	if b == nil || n == 0 {
		return
	}
	b.used.Add(-int64(n))
}

// Over reports whether the bytes charged exceed the limit.
func (b *MemoryBudget) Over() bool {
	return b != nil && b.limit > 0 && b.used.Load() > b.limit
}

// Excess returns the bytes charged above target (a fraction of the
// limit, in 1/8ths: 8 is the limit itself), or 0.
func (b *MemoryBudget) Excess(eighths int64) int64 {
	if b == nil || b.limit == 0 {
		return 0
	}
	return max(b.used.Load()-b.limit*eighths/8, 0)
}

func (b *MemoryBudget) notePeak(v int64) {
	for {
		p := b.peak.Load()
		if v <= p || b.peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// NoteRefused, NoteTrimmed and NoteClosed count a decision a keeper made
// for the budget: a demand it refused, a cache it trimmed, a consumer it
// closed.
func (b *MemoryBudget) NoteRefused() {
	if b != nil {
		b.refused.Add(1)
	}
}

// NoteTrimmed counts a cache trimmed for the budget (see NoteRefused).
func (b *MemoryBudget) NoteTrimmed() {
	if b != nil {
		b.trimmed.Add(1)
	}
}

// NoteClosed counts a consumer closed for the budget (see NoteRefused).
func (b *MemoryBudget) NoteClosed() {
	if b != nil {
		b.closed.Add(1)
	}
}

// MemoryBudgetStats are a budget's figures.
type MemoryBudgetStats struct {
	// Limit is the limit (0: none); Used the bytes charged now; Peak the
	// most charged at once.
	Limit, Used, Peak int64
	// Refused counts demands refused (large messages, frames not kept),
	// Trimmed caches trimmed (GOP caches cut to their key frame), Closed
	// consumers closed (the fattest slow players).
	Refused, Trimmed, Closed uint64
}

// Stats returns the budget's figures.
func (b *MemoryBudget) Stats() MemoryBudgetStats {
	if b == nil {
		return MemoryBudgetStats{}
	}
	return MemoryBudgetStats{Limit: b.limit, Used: b.used.Load(), Peak: b.peak.Load(),
		Refused: b.refused.Load(), Trimmed: b.trimmed.Load(), Closed: b.closed.Load()}
}
