package chunk

import (
	"bytes"
	"runtime"
	"slices"
	"testing"
	"unsafe"
)

// keepAndRecycle reads n media messages of the sizes size gives (type
// and length; message i is filled with byte i), keeping each for window
// more messages and then giving it back, as a live server gives back a GOP
// nobody watched; each must be as read when it goes back. It returns the
// Reader and the allocations of the second half.
func keepAndRecycle(t *testing.T, n, window int, size func(i int) (uint8, int)) (*Reader, uint64) {
	t.Helper()
	var wire []byte
	for i := range n {
		typ, sz := size(i)
		wire, _ = Encode(wire, msg(uint32(4+typ%2), uint32(i*10), typ, 1, bytes.Repeat([]byte{byte(i)}, sz)), 4096)
	}
	r := NewReader(bytes.NewReader(wire), nil)
	r.SetChunkSize(4096)
	r.Recycle(nil) // from here on, slabs and buffers are followed
	kept := make([][]byte, n)
	var m0, m1 runtime.MemStats
	for i := range n {
		if i == n/2 {
			runtime.ReadMemStats(&m0)
		}
		if _, err := r.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		kept[i] = r.Detach()
		if _, sz := size(i); len(kept[i]) != sz {
			t.Fatalf("message %d: %d bytes, want %d", i, len(kept[i]), sz)
		}
		if j := i - window; j >= 0 {
			p := kept[j]
			if p[0] != byte(j) || p[len(p)-1] != byte(j) || bytes.Count(p, p[:1]) != len(p) {
				t.Fatalf("payload %d changed while kept", j)
			}
			r.Recycle(p)
			kept[j] = nil
		}
	}
	runtime.ReadMemStats(&m1)
	return r, m1.Mallocs - m0.Mallocs
}

// A Reader whose payloads come back (Recycle) carves its next payloads
// from the slabs they were in: reading a stream whose payloads are kept
// for a while (a GOP) and then given back allocates nearly nothing, and no
// payload changes while it is kept.
func TestReaderRecyclesSlabs(t *testing.T) {
	const n, window = 3000, 60
	r, allocs := keepAndRecycle(t, n, window, func(i int) (uint8, int) {
		if i%3 == 0 {
			return 8, 200 + i%50
		}
		return 9, 5000 + i%700
	})
	slabs := (n / 2) * 3500 / slabSize // about: the second half's bytes in slabs
	t.Logf("second half: %d allocations for %d messages (%d slabs' worth)", allocs, n/2, slabs)
	if allocs > uint64(slabs/4) {
		t.Fatalf("%d allocations for %d slabs' worth of payloads: slabs were not reused", allocs, slabs)
	}
	if len(r.recs) > window {
		t.Fatalf("%d slabs followed for %d payloads out", len(r.recs), window)
	}
}

// Larger media messages (key frames, the P-frames of high bitrates) have
// buffers of their own: those given back take the next such messages, so
// a stream of them kept for a while and given back allocates nearly
// nothing either, and nothing kept changes.
func TestReaderRecyclesBigBuffers(t *testing.T) {
	const n, window = 1500, 40
	r, allocs := keepAndRecycle(t, n, window, func(i int) (uint8, int) {
		switch {
		case i%25 == 0:
			return 9, 100000 + i // a key frame
		case i%3 == 0:
			return 8, 200 + i%50
		}
		return 9, 30000 + i*7919%6000 // P-frames of 30 to 36 KB
	})
	t.Logf("second half: %d allocations for %d messages (%d of them over %d bytes)", allocs, n/2, n/2*2/3, slabMessage)
	if allocs > 20 {
		t.Fatalf("%d allocations for %d messages: buffers given back were not reused", allocs, n/2)
	}
	if len(r.bigs) > window {
		t.Fatalf("%d buffers followed for %d payloads out", len(r.bigs), window)
	}
}

// A slab goes back only once every payload carved from it did: one still
// being received when the Reader moved on to the next slab holds it, the
// slab it still carves from stays, and what is given back twice, or was
// not carved by the Reader, changes nothing.
func TestReaderRecycleWaitsForEveryPayload(t *testing.T) {
	const cs = 4096
	var wire []byte
	// 16 KiB, then 32 KiB slabs, then the first full-size (followed) one:
	// messages 3 to 6 fill 60000 bytes of it.
	for i := range 7 {
		wire, _ = Encode(wire, msg(6, uint32(i), 9, 1, bytes.Repeat([]byte{byte(i)}, 15000)), cs)
	}
	// A (5000 bytes, fits the slab's rest) arrives in two chunks with B
	// (15000 bytes: the next slab) between them.
	a, _ := Encode(nil, msg(6, 7, 9, 1, bytes.Repeat([]byte{0xAA}, 5000)), cs)
	b, _ := Encode(nil, msg(4, 7, 8, 1, bytes.Repeat([]byte{0xBB}, 15000)), cs)
	first := 1 + 11 + 4096 // A's first chunk: type 0 header and 4096 bytes
	wire = append(wire, a[:first]...)
	wire = append(wire, b...)
	wire = append(wire, a[first:]...)

	r := NewReader(bytes.NewReader(wire), nil)
	r.SetChunkSize(cs)
	r.Recycle(nil)
	var got [][]byte
	for range 8 { // 0 to 6, then B
		if _, err := r.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Detach())
	}
	if got[7][0] != 0xBB {
		t.Fatalf("eighth message is not B: % x", got[7][:4])
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(got[3])))
	var rec *slabRec
	for _, x := range r.recs {
		if x.base == base {
			rec = x
		}
	}
	if rec == nil || rec.open {
		t.Fatalf("no closed record for the slab of messages 3 to 6 (%d followed)", len(r.recs))
	}
	for _, p := range got[3:] {
		r.Recycle(p)
	}
	r.Recycle(got[4])                      // twice
	r.Recycle(bytes.Repeat([]byte{1}, 10)) // not the Reader's
	if rec.out() != 1 || !slices.Contains(r.recs, rec) {
		t.Fatalf("slab with A still arriving: %d payloads out, followed %v; want 1, true", rec.out(), slices.Contains(r.recs, rec))
	}
	if r.cur == nil || !slices.Contains(r.recs, r.cur) {
		t.Fatal("the slab B came from, still carved from, was given back with B")
	}
	m, err := r.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Payload) != 5000 || bytes.Count(m.Payload, []byte{0xAA}) != 5000 {
		t.Fatal("A changed while the slab's other payloads were given back")
	}
	r.Recycle(r.Detach())
	if slices.Contains(r.recs, rec) {
		t.Fatal("the slab was not given back once A was")
	}
}

// Every larger message size has a class whose buffers hold it, with at
// most an eighth to spare.
func TestBigClasses(t *testing.T) {
	for n := slabMessage + 1; n <= maxBig; n += 97 {
		c := bigCap(n)
		p := bigPool(c)
		if p == nil || p.N != c || c < n || c > n+n/8 {
			t.Fatalf("%d bytes: class %d, pool %v", n, c, p)
		}
	}
	if bigPool(maxBig+1) != nil || bigPool(30001) != nil {
		t.Fatal("a capacity that is no class has a pool")
	}
}
