package live

// ctl is a notice queued for a player in order with its media.
type ctl uint8

const (
	ctlNone        ctl = iota
	ctlUnpublished     // the publisher left: NetStream.Play.UnpublishNotify; the grace period starts
	ctlPublished       // a publisher came back: NetStream.Play.PublishNotify; the grace period ends
)

// entry is one queued item: a packet (shared, never copied) or a notice,
// with the time it was queued.
type entry struct {
	p   *packet
	ctl ctl
	at  int64 // hub clock, ns
}

// ring is a growable FIFO of entries. It reuses its storage, so a queue in
// steady state allocates nothing. Not safe for concurrent use: its owner
// (a subscriber) guards it.
type ring struct {
	buf  []entry
	head int
	n    int
}

func (r *ring) len() int { return r.n }

func (r *ring) push(e entry) {
	if r.n == len(r.buf) {
		nb := make([]entry, max(16, 2*len(r.buf)))
		for i := 0; i < r.n; i++ {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = e
	r.n++
}

// front returns the oldest entry; the ring must not be empty.
func (r *ring) front() *entry { return &r.buf[r.head] }

// drain appends every entry to dst in order, empties the ring and returns dst.
func (r *ring) drain(dst []entry) []entry {
	for i := 0; i < r.n; i++ {
		j := (r.head + i) % len(r.buf)
		dst = append(dst, r.buf[j])
		r.buf[j] = entry{}
	}
	r.head, r.n = 0, 0
	return dst
}

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
		if e.p != nil {
			bytes += e.p.size()
		}
		n++
	}
	r.n = w
	return bytes, n
}

// clear drops every entry.
func (r *ring) clear() {
	clear(r.buf)
	r.head, r.n = 0, 0
}
