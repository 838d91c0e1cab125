package handshake_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"testing/iotest"

	"github.com/ertmp/rtmp/handshake"
)

var fp9 = [4]byte{9, 0, 124, 2}

func runServer(cfg *handshake.Config) func(net.Conn) (handshake.Result, error) {
	return func(c net.Conn) (handshake.Result, error) { return handshake.Server(c, cfg) }
}

// TestServerSimpleClient: a scripted RTMP 1.0 client (§5.2) against Server.
func TestServerSimpleClient(t *testing.T) {
	cfg := &handshake.Config{Epoch: 0x11223344, Rand: detRand(1)}
	peer, done := startPipe(t, runServer(cfg))

	c1 := first(refC1(1, 0x0a0b0c0d, [4]byte{}, -1, nil))
	mustWrite(t, peer, []byte{3}, c1)
	s := mustRead(t, peer, 1+2*handshake.Size)
	s1, s2 := s[1:1537], s[1537:]
	if s[0] != 3 {
		t.Errorf("S0 = %d, want 3", s[0])
	}
	if want := []byte{0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0}; !bytes.Equal(s1[:8], want) {
		t.Errorf("S1 time, zero = % x, want % x", s1[:8], want)
	}
	if !bytes.Equal(s2, c1) {
		t.Error("S2 is not an echo of C1")
	}
	mustWrite(t, peer, echoOf(s1))

	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	want := handshake.Result{Kind: handshake.KindSimple, PeerEpoch: 0x0a0b0c0d, RequestedVersion: 3, Verified: true}
	if o.res != want {
		t.Errorf("Result = %+v, want %+v", o.res, want)
	}
}

// TestServerDigestClient: a scripted digest client, built with the
// reference HMAC code, in both schemas, answering S1 with a response digest
// or, as FFmpeg does when publishing, with an echo.
func TestServerDigestClient(t *testing.T) {
	for _, schema := range []handshake.Schema{handshake.Schema0, handshake.Schema1} {
		for _, tt := range []struct {
			name     string
			echoC2   bool
			strict   bool
			wantErr  error
			verified bool
		}{
			{"response C2", false, false, nil, true},
			{"response C2 strict", false, true, nil, true},
			{"echo C2 tolerated", true, false, nil, false},
			{"echo C2 strict", true, true, handshake.ErrDigest, false},
		} {
			t.Run(schema.String()+"/"+tt.name, func(t *testing.T) {
				cfg := &handshake.Config{Rand: detRand(2), Strict: tt.strict, Epoch: 99}
				peer, done := startPipe(t, runServer(cfg))

				c1, c1d := refC1(uint64(schema)+10, 0x100, fp9, int(schema), refFPPart)
				mustWrite(t, peer, []byte{3}, c1)
				s := mustRead(t, peer, 1+2*handshake.Size)
				s1, s2 := s[1:1537], s[1537:]
				if s[0] != 3 {
					t.Errorf("S0 = %d", s[0])
				}
				if !bytes.Equal(s1[4:8], handshake.DefaultServerVersion[:]) || s1[3] != 99 {
					t.Errorf("S1 header = % x", s1[:8])
				}
				s1d, ok := refCheck(s1, int(schema), refFMSPart)
				if !ok {
					t.Fatalf("S1 has no valid server digest in %v (reference check)", schema)
				}
				if !bytes.Equal(s2[1504:], refResponse(s2, c1d, refFMSKey)) {
					t.Fatal("S2 response digest differs from the reference")
				}

				c2 := echoOf(s1)
				if !tt.echoC2 {
					c2 = random1504(3)
					copy(c2[1504:], refResponse(c2, s1d, refFPKey))
				}
				mustWrite(t, peer, c2)

				o := <-done
				if !errors.Is(o.err, tt.wantErr) || (tt.wantErr == nil) != (o.err == nil) {
					t.Fatalf("err = %v, want %v", o.err, tt.wantErr)
				}
				if o.res.Kind != handshake.KindDigest || o.res.Schema != schema || o.res.Verified != tt.verified ||
					o.res.PeerVersion != fp9 || o.res.PeerEpoch != 0x100 {
					t.Errorf("Result = %+v", o.res)
				}
			})
		}
	}
}

// TestServerModeSimple: a ModeSimple server answers a digest client with an
// echo and a simple S1.
func TestServerModeSimple(t *testing.T) {
	cfg := &handshake.Config{Mode: handshake.ModeSimple, Rand: detRand(4)}
	peer, done := startPipe(t, runServer(cfg))
	c1, _ := refC1(20, 0, fp9, 1, refFPPart)
	mustWrite(t, peer, []byte{3}, c1)
	s := mustRead(t, peer, 1+2*handshake.Size)
	if !bytes.Equal(s[5:9], []byte{0, 0, 0, 0}) {
		t.Errorf("S1 version field = % x, want zero", s[5:9])
	}
	if _, ok := refCheck(s[1:1537], 1, refFMSPart); ok {
		t.Error("S1 carries a digest")
	}
	if !bytes.Equal(s[1537:], c1) {
		t.Error("S2 is not an echo of C1")
	}
	mustWrite(t, peer, echoOf(s[1:1537]))
	if o := <-done; o.err != nil || o.res.Kind != handshake.KindSimple || !o.res.Verified {
		t.Fatalf("Result = %+v, err = %v", o.res, o.err)
	}
}

// serverCase is one scripted input to Server, fed from memory.
type serverCase struct {
	name      string
	input     []byte
	cfg       *handshake.Config
	wantErrs  []error // every one must match (nil: success)
	notErr    error   // must not match
	wantWrite bool    // S0S1S2 written
	check     func(t *testing.T, r handshake.Result, written []byte)
}

func serverCases() []serverCase {
	simpleC1 := first(refC1(30, 0, [4]byte{}, -1, nil))
	digestC1 := first(refC1(31, 0, fp9, 0, refFPPart))
	garbageC1 := first(refC1(32, 7, [4]byte{0xde, 0xad, 0xbe, 0xef}, -1, nil))
	c2 := first(refC1(33, 0, [4]byte{}, -1, nil))
	cat := func(p ...[]byte) []byte { return bytes.Join(p, nil) }
	v := func(b byte) []byte { return []byte{b} }
	answered3 := func(want byte) func(*testing.T, handshake.Result, []byte) {
		return func(t *testing.T, r handshake.Result, w []byte) {
			if w[0] != 3 || r.RequestedVersion != want {
				t.Errorf("S0 = %d, RequestedVersion = %d; want 3, %d", w[0], r.RequestedVersion, want)
			}
		}
	}

	cases := []serverCase{
		{name: "no input is a clean EOF", input: nil, wantErrs: []error{io.EOF}, notErr: io.ErrUnexpectedEOF},
		{name: "C0 HTTP request", input: []byte("GET / HTTP/1.1\r\n\r\n"), wantErrs: []error{handshake.ErrVersion}, notErr: handshake.ErrEncrypted},
		{name: "C0 TLS ClientHello", input: []byte{0x16, 0x03, 0x01, 0x02, 0x00}, wantErrs: []error{handshake.ErrVersion}},
		{name: "C0 32 not allowed", input: cat(v(32), simpleC1), wantErrs: []error{handshake.ErrVersion}},
		{name: "C0 255 not allowed", input: cat(v(255), simpleC1), wantErrs: []error{handshake.ErrVersion}},
		{name: "C0 6 RTMPE", input: cat(v(6), digestC1), wantErrs: []error{handshake.ErrEncrypted, handshake.ErrVersion}},
		{name: "C0 8 RTMPE XTEA", input: cat(v(8), digestC1), wantErrs: []error{handshake.ErrEncrypted}},
		{name: "C0 9 RTMPE Blowfish", input: cat(v(9), digestC1), wantErrs: []error{handshake.ErrEncrypted}},
		{name: "C0 0 deprecated is answered with 3", input: cat(v(0), simpleC1, c2), wantWrite: true, check: answered3(0)},
		{name: "C0 4 reserved is answered with 3", input: cat(v(4), simpleC1, c2), wantWrite: true, check: answered3(4)},
		{name: "C0 31 reserved is answered with 3", input: cat(v(31), digestC1, c2), wantWrite: true, check: answered3(31)},
		{
			name: "C1 garbage with version set falls back to simple", input: cat(v(3), garbageC1, c2), wantWrite: true,
			check: func(t *testing.T, r handshake.Result, w []byte) {
				if r.Kind != handshake.KindSimple || r.PeerVersion != [4]byte{0xde, 0xad, 0xbe, 0xef} || r.PeerEpoch != 7 {
					t.Errorf("Result = %+v", r)
				}
				if !bytes.Equal(w[1537:], garbageC1) {
					t.Error("S2 is not an echo of C1")
				}
				if r.Verified {
					t.Error("Verified with a C2 that is not an echo")
				}
			},
		},
		{
			name: "C1 digest, garbage C2 tolerated", input: cat(v(3), digestC1, c2), wantWrite: true,
			check: func(t *testing.T, r handshake.Result, _ []byte) {
				if r.Kind != handshake.KindDigest || r.Schema != handshake.Schema0 || r.Verified {
					t.Errorf("Result = %+v", r)
				}
			},
		},
		{name: "ModeDigest refuses a simple C1", input: cat(v(3), simpleC1, c2), cfg: &handshake.Config{Mode: handshake.ModeDigest}, wantErrs: []error{handshake.ErrDigest}},
		{name: "ModeDigest refuses a C1 without valid digest", input: cat(v(3), garbageC1, c2), cfg: &handshake.Config{Mode: handshake.ModeDigest}, wantErrs: []error{handshake.ErrDigest}},
		{name: "Strict refuses a C2 that is no echo", input: cat(v(3), simpleC1, c2), cfg: &handshake.Config{Strict: true}, wantErrs: []error{handshake.ErrEcho}, wantWrite: true},
		{name: "Strict refuses a C2 without response digest", input: cat(v(3), digestC1, c2), cfg: &handshake.Config{Strict: true}, wantErrs: []error{handshake.ErrDigest}, wantWrite: true},
		{name: "invalid mode", input: cat(v(3), simpleC1, c2), cfg: &handshake.Config{Mode: 7}, wantErrs: []error{errAny}},
	}
	for _, n := range []int{0, 1, 767, 1535} {
		cases = append(cases, serverCase{
			name: "C1 truncated at " + strconv.Itoa(n), input: cat(v(3), digestC1[:n]),
			wantErrs: []error{io.ErrUnexpectedEOF},
		})
	}
	for _, n := range []int{0, 100, 1535} {
		cases = append(cases, serverCase{
			name: "C2 truncated at " + strconv.Itoa(n), input: cat(v(3), simpleC1, c2[:n]),
			wantErrs: []error{io.ErrUnexpectedEOF}, wantWrite: true,
		})
	}
	return cases
}

// errAny matches any non-nil error in serverCase.wantErrs.
var errAny = errors.New("any error")

func TestServerInput(t *testing.T) {
	for _, tt := range serverCases() {
		for _, oneByte := range []bool{false, true} {
			name := tt.name
			if oneByte {
				name += "/one byte at a time"
			}
			t.Run(name, func(t *testing.T) {
				var cfg handshake.Config
				if tt.cfg != nil {
					cfg = *tt.cfg
				}
				cfg.Rand = detRand(5)
				var r io.Reader = bytes.NewReader(tt.input)
				if oneByte {
					r = iotest.OneByteReader(r)
				}
				var w bytes.Buffer
				res, err := handshake.Server(struct {
					io.Reader
					io.Writer
				}{r, &w}, &cfg)
				switch {
				case tt.wantErrs == nil && err != nil:
					t.Fatalf("err = %v", err)
				case tt.wantErrs != nil && err == nil:
					t.Fatalf("err = nil, want %v", tt.wantErrs)
				}
				for _, want := range tt.wantErrs {
					if want != errAny && !errors.Is(err, want) {
						t.Errorf("err = %v, want it to match %v", err, want)
					}
				}
				if tt.notErr != nil && errors.Is(err, tt.notErr) {
					t.Errorf("err = %v, must not match %v", err, tt.notErr)
				}
				if err != nil && !bytes.HasPrefix([]byte(err.Error()), []byte("handshake: ")) {
					t.Errorf("err = %q, want the handshake: prefix", err)
				}
				if got := w.Len() > 0; got != tt.wantWrite {
					t.Fatalf("wrote %d bytes, want a write: %v", w.Len(), tt.wantWrite)
				}
				if tt.wantWrite && w.Len() != 1+2*handshake.Size {
					t.Fatalf("wrote %d bytes, want %d", w.Len(), 1+2*handshake.Size)
				}
				if tt.check != nil {
					tt.check(t, res, w.Bytes())
				}
			})
		}
	}
}

func TestServerVersionError(t *testing.T) {
	_, err := handshake.Server(&memPeer{script: *bytes.NewBuffer([]byte{6})}, nil)
	var ve *handshake.VersionError
	if !errors.As(err, &ve) || ve.Packet != "C0" || ve.Version != 6 {
		t.Fatalf("err = %v, want a *VersionError for C0 version 6", err)
	}
}

// TestServerOneWrite: S0, S1 and S2 go out in a single Write, after C1.
func TestServerOneWrite(t *testing.T) {
	m := &memPeer{}
	m.script.Write([]byte{3})
	m.script.Write(first(refC1(40, 0, [4]byte{}, -1, nil)))
	m.onWrite = func(m *memPeer, p []byte) {
		if len(p) == 1+2*handshake.Size {
			m.script.Write(echoOf(p[1:1537]))
		}
	}
	res, err := handshake.Server(m, &handshake.Config{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if m.writes != 1 || !res.Verified {
		t.Errorf("writes = %d, Verified = %v; want 1, true", m.writes, res.Verified)
	}
}

func TestServerWriteError(t *testing.T) {
	boom := errors.New("boom")
	in := bytes.NewReader(append([]byte{3}, first(refC1(41, 0, [4]byte{}, -1, nil))...))
	_, err := handshake.Server(struct {
		io.Reader
		io.Writer
	}{in, failWriter{boom}}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
