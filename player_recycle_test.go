package rtmp_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"unsafe"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// A player that gives back what it read (Player.Recycle) gets later
// packets in that memory, and every packet as sent: the test keeps each
// given-back payload referenced (so the collector cannot be what reuses
// its memory) and sees later payloads land there.
func TestPlayerRecycle(t *testing.T) {
	base, _, _ := pipeHub(t)
	url := base + "/live/recycle"
	pub, err := rtmp.DialPublish(ctx(t), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	play, err := rtmp.DialPlay(ctx(t), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer play.Close()
	const n, size = 600, 20000
	go func() {
		body := make([]byte, size)
		for i := range n {
			body[0] = 0x27
			for j := 1; j < size; j++ {
				body[j] = byte(i)
			}
			binary.BigEndian.PutUint32(body[1:], uint32(i))
			if pub.WriteTag(flv.Tag{Type: flv.TagVideo, Timestamp: uint32(i), Data: body}) != nil {
				return
			}
		}
		pub.Close()
	}()
	given := map[uintptr]bool{}
	var keep [][]byte // referenced, never read again
	got, reused := 0, 0
	for {
		pk, err := play.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if pk.Type != message.TypeVideo {
			continue
		}
		p := pk.Payload
		i := int(binary.BigEndian.Uint32(p[1:]))
		if i != got || len(p) != size || bytes.Count(p[5:], []byte{byte(i)}) != size-5 {
			t.Fatalf("packet %d: got number %d, %d bytes, or changed bytes", got, i, len(p))
		}
		got++
		a := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
		if given[a] {
			reused++
		}
		given[a] = true
		keep = append(keep, p)
		play.Recycle(p)
	}
	if got != n {
		t.Fatalf("%d packets played, %d published", got, n)
	}
	t.Logf("%d of %d payloads landed in memory given back", reused, n)
	if reused < n/8 { // none without Recycle; the reader runs up to 256 packets ahead
		t.Fatalf("%d of %d payloads landed in memory given back, want at least an eighth", reused, n)
	}
	_ = keep
}
