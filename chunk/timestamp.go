package chunk

// Unwrapper extends 32-bit RTMP timestamps to 64 bits. Timestamps "roll
// over every 49 days", and an application "SHOULD use serial number
// arithmetic [RFC1982] when processing timestamps" (§4): each timestamp is
// read as the one nearest to the previous, a step forward when the
// difference is below 2^31 ms and a step back otherwise, "so 10000 comes
// after 4000000000, and 3000000000 comes before 4000000000".
//
// The zero value is ready: the first timestamp unwraps to itself. A stream
// that steps back before its first timestamp unwraps below zero (0 then
// 4294967295 gives -1). A step of exactly 2^31, which RFC 1982 leaves
// undefined, is taken as a step back.
//
// Keep one Unwrapper per timeline (per message stream, or per publisher);
// it is not safe for concurrent use.
type Unwrapper struct {
	started bool
	last    uint32 // the last timestamp given
	cur     int64  // it, unwrapped
}

// Unwrap returns ts extended to 64 bits.
func (u *Unwrapper) Unwrap(ts uint32) int64 {
	if !u.started {
		u.started, u.last, u.cur = true, ts, int64(ts)
		return u.cur
	}
	u.cur += int64(int32(ts - u.last))
	u.last = ts
	return u.cur
}

// Reset forgets the timeline: the next timestamp unwraps to itself.
func (u *Unwrapper) Reset() { *u = Unwrapper{} }
