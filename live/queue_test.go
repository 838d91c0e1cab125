package live

import "testing"

// A ring grown by a burst (a join's GOP) gives its storage back once it
// drains little, keeps order throughout, and then runs without allocating.
func TestRingGivesBackBurstStorage(t *testing.T) {
	var r ring
	pk := make([]*Packet, 300)
	for i := range pk {
		pk[i] = &Packet{ts: uint32(i)}
	}
	for i := range pk {
		r.push(entry{Item: Item{Packet: pk[i]}})
	}
	if len(r.buf) < len(pk) {
		t.Fatalf("storage %d for %d entries", len(r.buf), len(pk))
	}
	out := r.drain(nil)
	for i, it := range out {
		if it.Packet != pk[i] {
			t.Fatalf("item %d out of order", i)
		}
	}
	// A full drain keeps the storage: the burst may go on.
	if len(r.buf) < len(pk) {
		t.Fatalf("storage %d after a full drain", len(r.buf))
	}
	r.push(entry{Item: Item{Packet: pk[0]}})
	r.push(entry{Item: Item{Packet: pk[1]}})
	if out = r.drain(out[:0]); len(out) != 2 || out[0].Packet != pk[0] || out[1].Packet != pk[1] {
		t.Fatalf("drained %v", out)
	}
	if len(r.buf) > ringKeep {
		t.Fatalf("storage %d after a small drain, want at most %d", len(r.buf), ringKeep)
	}
	r.push(entry{Item: Item{Packet: pk[2]}})
	out = r.drain(out[:0])
	// Drained, it holds nothing: its storage went back to the pool, empty
	// of packets, and another ring takes it.
	if r.buf != nil || r.hold != nil {
		t.Fatalf("an empty ring holds %d entries of storage, want none", len(r.buf))
	}
	var other ring
	other.push(entry{Item: Item{Packet: pk[4]}})
	for i, e := range other.buf[1:] {
		if e.Packet != nil {
			t.Fatalf("lent storage still holds a packet at %d", i+1)
		}
	}
	other.drain(nil)
	if a := testing.AllocsPerRun(100, func() {
		r.push(entry{Item: Item{Packet: pk[3]}})
		out = r.drain(out[:0])
	}); a != 0 {
		t.Fatalf("%v allocations per push and drain in steady state", a)
	}
}

// A player's writer gives its batch slices back between writes, and keeps
// those grown for a burst (its own rule drops them once bursts end).
func TestPlayerWriterGivesBackSlices(t *testing.T) {
	var w playerWriter
	w.items = itemPool.Get(&w.itemsHold)
	w.batch = batchPool.Get(&w.batchHold)
	w.items = append(w.items, Item{})
	clear(w.items)
	w.giveBack()
	if w.items != nil || w.batch != nil || w.itemsHold != nil || w.batchHold != nil {
		t.Fatalf("writer holds %d items and %d prepared slots between writes, want none", cap(w.items), cap(w.batch))
	}
	w.items = make([]Item, 0, 4*ringKeep)
	w.giveBack()
	if cap(w.items) != 4*ringKeep {
		t.Fatal("a burst's storage was given to the pool")
	}
}
