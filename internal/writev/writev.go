// Package writev writes runs of buffers to a connection with writev, a few
// at a time.
package writev

import (
	"io"
	"net"
)

// Max bounds the buffers of one writev: the socket keeps an array of
// iovecs as large as the largest writev it made, for as long as it lives,
// and a burst (a player's join) would leave thousands of them holding a
// large one.
const Max = 16

// Write writes bufs to dst, a connection that writes net.Buffers with
// writev (TCP, Unix), in writevs of at most Max buffers. out is the
// caller's scratch (net.Buffers.WriteTo consumes what it writes): kept in
// the caller's state, it spares an allocation per call. It is nil again on
// return.
func Write(dst io.Writer, bufs [][]byte, out *net.Buffers) (int64, error) {
	var n int64
	var err error
	for len(bufs) > 0 && err == nil {
		k := min(len(bufs), Max)
		*out = bufs[:k]
		var m int64
		m, err = out.WriteTo(dst)
		n += m
		bufs = bufs[k:]
	}
	*out = nil
	return n, err
}
