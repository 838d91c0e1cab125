package chunk

import (
	"math/bits"
	"slices"
	"unsafe"
	"weak"

	"github.com/ertmp/rtmp/internal/pool"
)

// slabPool lends full-size slabs (slabSize) to every Reader's carve. Slabs
// come back to it from Readers that recycle (Recycle): a live server that
// dropped a GOP nobody watched gives its payloads back, and the next
// slabs are those, not new allocations the collector has to clear and
// sweep.
var slabPool = pool.Slices[byte]{N: slabSize}

// maxSlabRecs bounds the slabs a recycling Reader follows at once: 16 MiB
// of slabs, as much as a GOP cache holds by default. Past it the oldest
// record is dropped, and that slab is left to the collector.
const maxSlabRecs = 256

// slabRec follows one full-size slab of a Reader that recycles: the offsets
// of the payloads carved from it that are not given back. A payload still
// being received counts, and so does one never detached (the Reader
// dropped it): the slab is reused only once every payload carved from it
// came back. It refers to the slab weakly, so a slab whose payloads the
// caller keeps for good (a live server whose players got them) is
// collected as before and its record dropped when found dead.
type slabRec struct {
	slab weak.Pointer[byte]
	base uintptr  // the slab's address, while it lives
	hold *[]byte  // the pool's pointer the slab came in (pool.Slices), emptied
	offs []uint32 // offsets carved; offs[head:] are not back yet
	head int
	open bool // the Reader still carves from it
}

// out reports how many payloads carved from the slab are not back.
func (rec *slabRec) out() int { return len(rec.offs) - rec.head }

// newSlab returns a slab of size bytes for carve: a full-size one from
// slabPool, followed when the Reader recycles.
func (r *Reader) newSlab(size int) []byte {
	if size != slabSize {
		r.cur = nil
		return make([]byte, size)
	}
	var h *[]byte
	b := slabPool.Get(&h)[:slabSize]
	if !r.recycling {
		r.cur = nil
		return b
	}
	if h != nil {
		*h = nil // the record holds the slab weakly
	}
	var rec *slabRec
	if n := len(r.spare); n > 0 {
		rec, r.spare = r.spare[n-1], r.spare[:n-1]
	} else {
		rec = new(slabRec)
	}
	rec.slab = weak.Make(unsafe.SliceData(b))
	rec.base = uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	rec.hold, rec.offs, rec.head, rec.open = h, rec.offs[:0], 0, true
	for i := len(r.recs) - 1; i >= 0; i-- {
		if r.recs[i].base == rec.base {
			r.forget(i) // a slab collected at this address: dead
		}
	}
	for len(r.recs) > 0 && (len(r.recs) >= maxSlabRecs || r.recs[0].slab.Value() == nil) {
		r.forget(0)
	}
	r.recs = append(r.recs, rec)
	r.cur = rec
	return b
}

// closeSlab notes that the Reader carves no more from its current slab:
// with none of its payloads out, it goes back to the pool now.
func (r *Reader) closeSlab() {
	rec := r.cur
	r.cur = nil
	if rec == nil {
		return
	}
	rec.open = false
	if rec.out() == 0 {
		if i := slices.Index(r.recs, rec); i >= 0 {
			r.release(i)
		}
	}
}

// Recycle gives back a media payload that Detach returned: the caller, and
// everything it passed the payload to, is done with it, so its memory may
// hold the next messages' payloads (of this Reader or another). Payloads
// the Reader does not know (not from its slabs or its buffers of larger
// media messages, already given back, or from one it stopped following)
// are ignored, so giving back what was not detached from it is harmless;
// giving back a payload still in use is not, as its bytes will change.
//
// A Reader follows its slabs and buffers from the first Recycle on: one
// that is never given anything back costs nothing more. Call it from the
// goroutine that reads.
func (r *Reader) Recycle(p []byte) {
	if !r.recycling {
		r.recycling = true
		return // nothing detached before was followed
	}
	if len(p) == 0 {
		return
	}
	// Records are matched by address. One whose slab was collected may
	// cover memory reused by a slab followed later (newSlab drops those at
	// the same address); matching it by mistake only keeps the live slab
	// from being reused, and release never gives back a dead one.
	a := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	for i, rec := range r.recs {
		if a < rec.base || a >= rec.base+slabSize {
			continue
		}
		off := uint32(a - rec.base)
		switch j := slices.Index(rec.offs[rec.head:], off); {
		case j < 0:
			continue // not out of this slab: back already, or a dead record
		case j == 0:
			rec.head++
		default:
			rec.offs = slices.Delete(rec.offs, rec.head+j, rec.head+j+1)
		}
		if rec.out() == 0 {
			rec.offs, rec.head = rec.offs[:0], 0
			if !rec.open {
				r.release(i)
			}
		}
		return
	}
	r.recycleBig(a)
}

// release gives recs[i]'s slab back to the pool and drops the record.
func (r *Reader) release(i int) {
	rec := r.recs[i]
	if b := rec.slab.Value(); b != nil {
		slabPool.Put(&rec.hold, unsafe.Slice(b, slabSize)[:0])
	}
	r.forget(i)
}

// forget drops recs[i], keeping the record for the next slab.
func (r *Reader) forget(i int) {
	rec := r.recs[i]
	r.recs = slices.Delete(r.recs, i, i+1)
	if rec == r.cur {
		r.cur = nil
	}
	rec.slab, rec.base, rec.hold, rec.head, rec.open = weak.Pointer[byte]{}, 0, nil, 0, false
	rec.offs = rec.offs[:0]
	if len(r.spare) < 32 {
		r.spare = append(r.spare, rec)
	}
}

// Larger media messages (over slabMessage: key frames, the P-frames of
// high bitrates) have buffers of their own. A recycling Reader sizes them
// in classes (bigCap), follows the last maxBigRecs it handed out (Detach),
// weakly like its slabs, and gives those given back to the class's pool,
// where any recycling Reader's next message of that class finds them. As
// for slabs, the pools are emptied by the collector when unused.
const (
	maxBigRecs = 128
	// Classes run from 2^minBigShift up to maxBig, 8 per doubling.
	minBigShift = 14
	maxBigShift = 22
	maxBig      = 1 << maxBigShift
)

var bigPools [(maxBigShift - minBigShift + 1) * 8]pool.Slices[byte]

func init() {
	for i := range bigPools {
		bigPools[i].N = (8 + i%8) << (minBigShift + i/8 - 3)
	}
}

// bigCap is the capacity a recycling Reader gives the buffer of a larger
// media message of n bytes: n rounded up to an eighth of its power of two
// (at most 1/8 more), so that buffers come in classes a next message of
// about the size fits.
func bigCap(n int) int {
	if n < 16 {
		return n
	}
	step := 1 << (bits.Len(uint(n)) - 4)
	return (n + step - 1) / step * step
}

// bigPool returns the pool of buffers of capacity c, nil if c is no class.
func bigPool(c int) *pool.Slices[byte] {
	if c < 1<<minBigShift || c > maxBig {
		return nil
	}
	shift := bits.Len(uint(c)) - 1
	i := (shift-minBigShift)*8 + (c >> (shift - 3)) - 8
	if p := &bigPools[i]; p.N == c {
		return p
	}
	return nil
}

// bigRec follows a buffer of its own that Detach handed out.
type bigRec struct {
	buf  weak.Pointer[byte]
	base uintptr
	cap  int
}

// followBig notes a detached buffer of its own (b, with its capacity).
func (r *Reader) followBig(b []byte) {
	if bigPool(cap(b)) == nil {
		return
	}
	if len(r.bigs) >= maxBigRecs {
		r.bigs = slices.Delete(r.bigs, 0, 1)
	}
	d := unsafe.SliceData(b[:1])
	r.bigs = append(r.bigs, bigRec{buf: weak.Make(d), base: uintptr(unsafe.Pointer(d)), cap: cap(b)})
}

// recycleBig gives the buffer of its own starting at a to its class's
// pool, if the Reader handed it out and it is still alive.
func (r *Reader) recycleBig(a uintptr) {
	// Given back in the order handed out, as a GOP is: oldest first.
	for i := 0; i < len(r.bigs); i++ {
		rec := r.bigs[i]
		if rec.base != a {
			continue
		}
		d := rec.buf.Value()
		r.bigs = slices.Delete(r.bigs, i, i+1)
		if d == nil {
			// Collected, and a buffer followed since reuses its address.
			i--
			continue
		}
		var h *[]byte
		if n := len(r.boxes); n > 0 {
			h, r.boxes = r.boxes[n-1], r.boxes[:n-1]
		}
		bigPool(rec.cap).Put(&h, unsafe.Slice(d, rec.cap)[:0])
		return
	}
}

// reuseBig gives s, a media message starting with no buffer, a buffer of
// its class from the pools if one is there (it allocates none: a message
// whose bytes have not come is not worth one), charged as a new one would
// be.
func (r *Reader) reuseBig(s *stream) {
	p := bigPool(bigCap(int(s.length)))
	if p == nil {
		return
	}
	var h *[]byte
	b, ok := p.TryGet(&h)
	if !ok {
		return
	}
	if r.held+cap(b) > r.cfg.MaxBuffered || r.hold(cap(b)) != nil {
		p.Put(&h, b)
		return
	}
	*h = nil // the slice is s's now; the pool's pointer is kept for a Put
	if len(r.boxes) < 16 {
		r.boxes = append(r.boxes, h)
	}
	s.buf = b
}
