package live

import (
	"cmp"
	"slices"
	"time"
)

// minFatBacklog is the smallest backlog a player is closed for when the
// memory budget is exhausted: a player that keeps up holds a merge window's
// worth of its stream, far less.
const minFatBacklog = 512 << 10

// reclaimEvery spaces the reclaims: a packet interval at 100 fps.
const reclaimEvery = 10 * time.Millisecond

// reclaim brings the memory budget back to 7/8 of its limit by closing the
// players with the largest backlogs (Config.Budget): the largest first,
// the newest first among equals. Subscribers that report loss (recorders,
// relays) are the operator's and are left to their own bounds.
//
// A publishing goroutine that finds the budget over its limit calls it
// once it holds no lock; one reclaim runs at a time, the others go on.
// After a scan that found nothing to close (the budget may be over for
// what no player holds), the next waits reclaimEvery: scanning at each
// packet would only cost.
func (h *Hub) reclaim() {
	b := h.cfg.Budget
	excess := b.Excess(7)
	if excess <= 0 {
		return
	}
	now := h.now()
	if f := h.fruitless.Load(); f != 0 && now-f < int64(reclaimEvery) {
		return
	}
	if !h.reclaiming.CompareAndSwap(false, true) {
		return
	}
	defer h.reclaiming.Store(false)
	h.mu.Lock()
	streams := make([]*stream, 0, len(h.streams))
	for _, st := range h.streams {
		streams = append(streams, st)
	}
	h.mu.Unlock()
	type fat struct {
		s *Subscription
		n int
	}
	var fats []fat
	for _, st := range streams {
		st.mu.Lock()
		for _, s := range st.subs {
			s.mu.Lock()
			if !s.dead && !s.lim.reportLoss && s.qbytes >= minFatBacklog {
				fats = append(fats, fat{s, s.qbytes})
			}
			s.mu.Unlock()
		}
		st.mu.Unlock()
	}
	if len(fats) == 0 {
		h.fruitless.Store(max(now, 1))
		return
	}
	h.fruitless.Store(0)
	slices.SortFunc(fats, func(a, b fat) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(b.s.sess.ID, a.s.sess.ID)
	})
	for _, f := range fats {
		if excess <= 0 {
			break
		}
		h.log.Info("live: player closed for the memory budget", h.attrs(f.s.sess, "backlog", f.n,
			"budget_used", b.Used(), "budget_limit", b.Limit())...)
		f.s.kill(ReasonMemoryBudget)
		b.NoteClosed()
		excess -= int64(f.n)
	}
}
