package writev

import (
	"bytes"
	"net"
	"testing"
)

// Write writes every buffer, in order, across several writevs, and leaves
// the caller's scratch empty.
func TestWrite(t *testing.T) {
	var bufs [][]byte
	var want []byte
	for i := range 3*Max + 5 {
		b := bytes.Repeat([]byte{byte(i)}, i+1)
		bufs = append(bufs, b)
		want = append(want, b...)
	}
	var got bytes.Buffer
	var out net.Buffers
	n, err := Write(&got, bufs, &out)
	if err != nil || n != int64(len(want)) || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("wrote %d bytes, %v; want %d in order", n, err, len(want))
	}
	if out != nil {
		t.Fatalf("scratch left with %d buffers", len(out))
	}
}
