package handshake_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/ertmp/rtmp/handshake"
)

// The reference implementation below is written from the public description
// of the digest handshake, independently of the package: its own keys, its
// own offset arithmetic, and crypto/hmac over copied byte ranges.

var (
	refConst, _ = hex.DecodeString("f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae")
	refFPKey    = append([]byte("Genuine Adobe Flash Player 001"), refConst...)       // 62 bytes
	refFMSKey   = append([]byte("Genuine Adobe Flash Media Server 001"), refConst...) // 68 bytes
	refFPPart   = refFPKey[:30]
	refFMSPart  = refFMSKey[:36]
)

func refHMAC(key []byte, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// refOffset: schema 0 sums bytes 772..775 and adds 776; schema 1 sums bytes
// 8..11 and adds 12; both modulo 728.
func refOffset(p []byte, schema int) int {
	base, add := 8, 12
	if schema == 0 {
		base, add = 772, 776
	}
	sum := 0
	for _, v := range p[base : base+4] {
		sum += int(v)
	}
	return sum%728 + add
}

// refDigest is the HMAC of the 1504 bytes of p around p[off:off+32].
func refDigest(p []byte, off int, key []byte) []byte {
	msg := make([]byte, 0, 1504)
	msg = append(msg, p[:off]...)
	msg = append(msg, p[off+32:1536]...)
	if len(msg) != 1504 {
		panic("refDigest: bad message length")
	}
	return refHMAC(key, msg)
}

// refSign makes p a digest C1/S1 in schema, returning the digest.
func refSign(p []byte, schema int, key []byte) []byte {
	off := refOffset(p, schema)
	d := refDigest(p, off, key)
	copy(p[off:], d)
	return d
}

// refCheck reports whether p carries a valid digest in schema.
func refCheck(p []byte, schema int, key []byte) ([]byte, bool) {
	off := refOffset(p, schema)
	d := refDigest(p, off, key)
	return d, bytes.Equal(d, p[off:off+32])
}

// refResponse is the last 32 bytes of a C2/S2 answering peerDigest.
func refResponse(p, peerDigest, fullKey []byte) []byte {
	tmp := refHMAC(fullKey, peerDigest)
	return refHMAC(tmp, p[:1504])
}

// refC1 builds a C1/S1 of random bytes from seed with the given version,
// time and schema (schema < 0: simple, no digest). It returns the packet and
// its digest.
func refC1(seed uint64, epoch uint32, version [4]byte, schema int, key []byte) (p, digest []byte) {
	p = make([]byte, 1536)
	fill(p, seed)
	p[0], p[1], p[2], p[3] = byte(epoch>>24), byte(epoch>>16), byte(epoch>>8), byte(epoch)
	copy(p[4:8], version[:])
	if schema >= 0 {
		digest = refSign(p, schema, key)
	}
	return p, digest
}

func fill(p []byte, seed uint64) {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), 1})
	r.Read(p)
}

// detRand is a deterministic Config.Rand.
func detRand(seed uint64) io.Reader {
	return rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 2})
}

// memPeer is a synchronous in-memory peer: the code under test reads
// script (then io.EOF), and every Write is recorded and may append to the
// script through onWrite.
type memPeer struct {
	script  bytes.Buffer
	written bytes.Buffer
	writes  int
	onWrite func(m *memPeer, p []byte)
}

func (m *memPeer) Read(p []byte) (int, error) { return m.script.Read(p) }

func (m *memPeer) Write(p []byte) (int, error) {
	m.writes++
	m.written.Write(p)
	if m.onWrite != nil {
		m.onWrite(m, p)
	}
	return len(p), nil
}

type outcome struct {
	res handshake.Result
	err error
}

// startPipe runs side on one end of a net.Pipe in its own goroutine and
// returns the other end, for a scripted peer driven from the test
// goroutine, and the channel side's outcome arrives on. Both ends have a
// deadline; cleanup closes them and waits for the goroutine.
func startPipe(t *testing.T, side func(net.Conn) (handshake.Result, error)) (net.Conn, <-chan outcome) {
	t.Helper()
	a, b := net.Pipe()
	dl := time.Now().Add(5 * time.Second)
	a.SetDeadline(dl)
	b.SetDeadline(dl)
	ch := make(chan outcome, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r, err := side(a)
		if err != nil {
			a.Close() // so that the peer does not wait for its deadline
		}
		ch <- outcome{r, err}
	}()
	t.Cleanup(func() {
		a.Close()
		b.Close()
		<-done
	})
	return b, ch
}

func mustRead(t *testing.T, c io.Reader, n int) []byte {
	t.Helper()
	p := make([]byte, n)
	if _, err := io.ReadFull(c, p); err != nil {
		t.Fatalf("peer: reading %d bytes: %v", n, err)
	}
	return p
}

func mustWrite(t *testing.T, c io.Writer, p ...[]byte) {
	t.Helper()
	if _, err := c.Write(bytes.Join(p, nil)); err != nil {
		t.Fatalf("peer: writing: %v", err)
	}
}

// echoOf is the §5.2.4 echo of p, verbatim.
func echoOf(p []byte) []byte { return bytes.Clone(p) }

// random1504 returns 1536 bytes whose first 1504 are random and last 32
// zero, the start of a digest C2/S2.
func random1504(seed uint64) []byte {
	p := make([]byte, 1536)
	fill(p[:1504], seed)
	return p
}
