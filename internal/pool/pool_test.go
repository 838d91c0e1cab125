package pool

import "testing"

func TestSlices(t *testing.T) {
	p := &Slices[int]{N: 8}
	var hold *[]int
	a := p.Get(&hold)
	if cap(a) != 8 || len(a) != 0 {
		t.Fatalf("got len %d cap %d, want an empty slice of 8", len(a), cap(a))
	}
	a = append(a, 1, 2, 3)
	if !p.Put(&hold, a) || hold != nil {
		t.Fatal("a slice of capacity N was not taken back")
	}
	// Grown past N, or none: the owner keeps it.
	if p.Put(&hold, make([]int, 0, 16)) || p.Put(&hold, nil) {
		t.Fatal("took back a slice of another capacity")
	}
	var h2 *[]int
	b := p.Get(&h2)
	if h2 == nil || &b[:1][0] != &a[:1][0] || len(b) != 0 {
		t.Fatal("the slice put back was not lent again, emptied")
	}
	p.Put(&h2, b)
	if b, ok := p.TryGet(&h2); !ok || cap(b) != 8 {
		t.Fatal("TryGet found nothing in a pool given a slice")
	}
	if _, ok := p.TryGet(&h2); ok {
		t.Fatal("TryGet found a slice in an empty pool")
	}
	if n := testing.AllocsPerRun(100, func() {
		c := p.Get(&h2)
		p.Put(&h2, append(c, 4))
	}); n != 0 {
		t.Fatalf("%v allocations per Get and Put, want 0", n)
	}
}
