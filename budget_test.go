package rtmp

import (
	"sync"
	"testing"
)

func TestMemoryBudget(t *testing.T) {
	b := NewMemoryBudget(100)
	// A demand is granted while Used+2n fits: a large one is refused
	// long before a small one.
	if !b.Reserve(40) || b.Used() != 40 {
		t.Fatalf("40 of 100: used %d", b.Used())
	}
	if b.Reserve(40) { // 40+80 > 100
		t.Fatal("40 more granted with 40 used")
	}
	if !b.Reserve(20) || b.Used() != 60 {
		t.Fatalf("20 more: used %d", b.Used())
	}
	b.Charge(50) // always granted
	if !b.Over() || b.Excess(8) != 10 || b.Excess(7) != 110-87 {
		t.Fatalf("used %d: over %v, excess %d", b.Used(), b.Over(), b.Excess(8))
	}
	b.NoteTrimmed()
	b.NoteClosed()
	b.Release(110)
	st := b.Stats()
	want := MemoryBudgetStats{Limit: 100, Used: 0, Peak: 110, Refused: 1, Trimmed: 1, Closed: 1}
	if st != want || b.Over() {
		t.Fatalf("stats %+v, want %+v", st, want)
	}

	// Concurrent charges and releases balance.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if b.Reserve(3) {
					b.Release(3)
				}
				b.Charge(5)
				b.Charge(-5)
			}
		}()
	}
	wg.Wait()
	if b.Used() != 0 || b.Stats().Peak > 110 {
		t.Fatalf("after concurrent use: %+v", b.Stats())
	}

	// Nil and unlimited budgets grant everything.
	var none *MemoryBudget
	if !none.Reserve(1<<30) || none.Over() || none.Used() != 0 {
		t.Fatal("a nil budget refused or counted")
	}
	none.Charge(5)
	none.Release(5)
	u := NewMemoryBudget(0)
	if !u.Reserve(1<<30) || u.Over() || u.Used() != 1<<30 {
		t.Fatalf("an unlimited budget: used %d", u.Used())
	}
}
