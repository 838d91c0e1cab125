package live

import "github.com/ertmp/rtmp/internal/pool"

// ring is a growable FIFO of entries. Empty, it holds no storage: a
// subscriber's queue is empty between its writer's wakes, and its
// ringKeep entries go back to ringPool for the next queue that needs
// them, so a queue in steady state allocates nothing and a thousand idle
// ones hold nothing. Not safe for concurrent use: its owner (a
// subscriber) guards it.
type ring struct {
	buf  []entry
	head int
	n    int
	hold *[]entry // carries buf to and from ringPool
}

var ringPool = pool.Slices[entry]{N: ringKeep}

func (r *ring) len() int { return r.n }

func (r *ring) push(e entry) {
	if r.buf == nil {
		b := ringPool.Get(&r.hold)
		r.buf = b[:cap(b)]
	}
	if r.n == len(r.buf) {
		nb := make([]entry, 2*len(r.buf))
		for i := 0; i < r.n; i++ {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		clear(r.buf)
		ringPool.Put(&r.hold, r.buf)
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = e
	r.n++
}

// front returns the oldest entry; the ring must not be empty.
func (r *ring) front() *entry { return &r.buf[r.head] }

// drain appends every item to dst in order, empties the ring and returns dst.
// A ring that grew for a burst (a subscriber's join: the GOP cache) gives
// its storage back once it drains little (ringKeep).
func (r *ring) drain(dst []Item) []Item {
	for i := 0; i < r.n; i++ {
		j := (r.head + i) % len(r.buf)
		dst = append(dst, r.buf[j].Item)
		r.buf[j] = entry{}
	}
	if len(r.buf) > ringKeep && r.n <= ringKeep/4 || ringPool.Put(&r.hold, r.buf) {
		r.buf = nil
	}
	r.head, r.n = 0, 0
	return dst
}

// ringKeep is the storage (entries) a ring keeps whatever it drains.
const ringKeep = 16

// filter keeps the entries keep accepts, in order, and returns the bytes of
// packets it removed and how many.
func (r *ring) filter(keep func(*entry) bool) (bytes, n int) {
	w := 0
	for i := 0; i < r.n; i++ {
		j := (r.head + i) % len(r.buf)
		e := r.buf[j]
		r.buf[j] = entry{}
		if keep(&e) {
			r.buf[(r.head+w)%len(r.buf)] = e
			w++
			continue
		}
		if e.Packet != nil {
			bytes += e.Packet.size()
		}
		n++
	}
	r.n = w
	return bytes, n
}

// clear drops every entry.
func (r *ring) clear() {
	clear(r.buf)
	if ringPool.Put(&r.hold, r.buf) {
		r.buf = nil
	}
	r.head, r.n = 0, 0
}

// meter measures a byte rate over whole seconds of the hub's clock.
type meter struct {
	sec       int64 // the second cur counts
	cur, prev uint64
}

func (m *meter) add(now int64, n int) {
	s := now / 1e9
	if s != m.sec {
		if s == m.sec+1 {
			m.prev = m.cur
		} else {
			m.prev = 0
		}
		m.cur, m.sec = 0, s
	}
	m.cur += uint64(n)
}

// rate is the bits per second of the last whole second.
func (m *meter) rate(now int64) int64 {
	switch now / 1e9 {
	case m.sec:
		return int64(m.prev * 8)
	case m.sec + 1:
		return int64(m.cur * 8)
	}
	return 0
}
