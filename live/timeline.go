package live

import "github.com/ertmp/rtmp/chunk"

// timeline maps a publisher's 32-bit timestamps onto the stream's output
// time, which players see. It unwraps timestamps to 64 bits with serial
// number arithmetic (RFC 1982: a difference below 2^31 is forward, so a
// timestamp that wraps past 2^32 keeps counting up), and keeps the output
// monotonic across publishers: when a publisher returns under the same key,
// its first message is placed just after the last one players got, and
// nothing it sends goes before that point.
//
// A timeline is owned by its stream and guarded by the stream's mutex.
type timeline struct {
	// Per publisher: reset by restart.
	started bool
	unwrap  chunk.Unwrapper // the input, unwrapped (RFC 1982)
	in      int64           // the last input, unwrapped
	offset  int64           // output = unwrapped input + offset

	// Across publishers.
	hasOut bool
	out    int64 // the highest output time so far
	floor  int64 // no output below this (the last output before a republish)
}

// restart prepares for a new publisher; the next timestamp starts its
// input timeline.
func (t *timeline) restart() {
	t.started = false
	t.unwrap.Reset()
	t.floor = t.out
}

// next maps an input timestamp to output time (ms, never negative).
func (t *timeline) next(ts uint32) int64 {
	t.in = t.unwrap.Unwrap(ts)
	if !t.started {
		t.started = true
		if t.hasOut {
			// A returning publisher starts over (usually at 0); continue
			// one millisecond after what players last got.
			t.offset = t.out + 1 - t.in
		} else {
			t.offset = 0
		}
	}
	o := max(t.in+t.offset, t.floor, 0)
	if !t.hasOut || o > t.out {
		t.out = o
		t.hasOut = true
	}
	return o
}
