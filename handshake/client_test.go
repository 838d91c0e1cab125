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

func runClient(cfg *handshake.Config) func(net.Conn) (handshake.Result, error) {
	return func(c net.Conn) (handshake.Result, error) { return handshake.Client(c, cfg) }
}

// readC0C1 reads C0 C1 as the scripted server and checks that C1 is a
// digest C1 in schema 1 (reference check), returning C1 and its digest.
func readC0C1(t *testing.T, peer io.Reader, epoch uint32) (c1, c1d []byte) {
	t.Helper()
	c := mustRead(t, peer, 1+handshake.Size)
	if c[0] != 3 {
		t.Errorf("C0 = %d, want 3", c[0])
	}
	c1 = c[1:]
	if want := []byte{byte(epoch >> 24), byte(epoch >> 16), byte(epoch >> 8), byte(epoch), 9, 0, 124, 2}; !bytes.Equal(c1[:8], want) {
		t.Errorf("C1 time, version = % x, want % x", c1[:8], want)
	}
	c1d, ok := refCheck(c1, 1, refFPPart)
	if !ok {
		t.Fatal("C1 has no valid client digest in schema 1 (reference check)")
	}
	return c1, c1d
}

// TestClientAutoSimpleServer: Client in ModeAuto falls back against a
// scripted RTMP 1.0 server that echoes (§5.2.4).
func TestClientAutoSimpleServer(t *testing.T) {
	cfg := &handshake.Config{Epoch: 0x55, Rand: detRand(1), Strict: true}
	peer, done := startPipe(t, runClient(cfg))

	c1, _ := readC0C1(t, peer, 0x55)
	s1 := first(refC1(50, 0x77, [4]byte{}, -1, nil))
	mustWrite(t, peer, []byte{3}, s1, echoOf(c1))
	if c2 := mustRead(t, peer, handshake.Size); !bytes.Equal(c2, s1) {
		t.Error("C2 is not an echo of S1")
	}

	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	want := handshake.Result{Kind: handshake.KindSimple, PeerEpoch: 0x77, RequestedVersion: 3, Verified: true}
	if o.res != want {
		t.Errorf("Result = %+v, want %+v", o.res, want)
	}
}

// TestClientDigestServer: Client against a scripted digest server built on
// the reference HMAC code, in both schemas, with a response S2 or an echo.
func TestClientDigestServer(t *testing.T) {
	fms := [4]byte{13, 14, 10, 13}
	for _, schema := range []handshake.Schema{handshake.Schema0, handshake.Schema1} {
		for _, tt := range []struct {
			name     string
			echoS2   bool
			strict   bool
			wantErr  error
			verified bool
		}{
			{"response S2", false, false, nil, true},
			{"response S2 strict", false, true, nil, true},
			{"echo S2 tolerated", true, false, nil, false},
			{"echo S2 strict", true, true, handshake.ErrDigest, false},
		} {
			t.Run(schema.String()+"/"+tt.name, func(t *testing.T) {
				cfg := &handshake.Config{Rand: detRand(2), Strict: tt.strict}
				peer, done := startPipe(t, runClient(cfg))

				c1, c1d := readC0C1(t, peer, 0)
				s1, s1d := refC1(uint64(schema)+60, 0x1234, fms, int(schema), refFMSPart)
				s2 := echoOf(c1)
				if !tt.echoS2 {
					s2 = random1504(61)
					copy(s2[1504:], refResponse(s2, c1d, refFMSKey))
				}
				mustWrite(t, peer, []byte{3}, s1, s2)
				if tt.wantErr == nil {
					c2 := mustRead(t, peer, handshake.Size)
					if !bytes.Equal(c2[1504:], refResponse(c2, s1d, refFPKey)) {
						t.Error("C2 response digest differs from the reference")
					}
				}

				o := <-done
				if !errors.Is(o.err, tt.wantErr) || (tt.wantErr == nil) != (o.err == nil) {
					t.Fatalf("err = %v, want %v", o.err, tt.wantErr)
				}
				if o.res.Kind != handshake.KindDigest || o.res.Schema != schema || o.res.Verified != tt.verified ||
					o.res.PeerVersion != fms || o.res.PeerEpoch != 0x1234 {
					t.Errorf("Result = %+v", o.res)
				}
			})
		}
	}
}

// TestClientModeSimple: a ModeSimple client sends a §5.2.3 C1 (zero field
// zero) and echoes S1 even when S1 carries a digest, as nginx-rtmp's does.
func TestClientModeSimple(t *testing.T) {
	cfg := &handshake.Config{Mode: handshake.ModeSimple, Rand: detRand(3), Epoch: 1}
	peer, done := startPipe(t, runClient(cfg))

	c := mustRead(t, peer, 1+handshake.Size)
	if !bytes.Equal(c[:9], []byte{3, 0, 0, 0, 1, 0, 0, 0, 0}) {
		t.Errorf("C0, C1 time, zero = % x", c[:9])
	}
	s1, _ := refC1(70, 0, [4]byte{13, 14, 10, 13}, 1, refFMSPart)
	mustWrite(t, peer, []byte{3}, s1, echoOf(c[1:]))
	if c2 := mustRead(t, peer, handshake.Size); !bytes.Equal(c2, s1) {
		t.Error("C2 is not an echo of S1")
	}
	if o := <-done; o.err != nil || o.res.Kind != handshake.KindSimple || !o.res.Verified {
		t.Fatalf("Result = %+v, err = %v", o.res, o.err)
	}
}

// clientScript feeds Client from memory: reply computes S0 S1 S2 from C0 C1.
func clientScript(reply func(c1 []byte) []byte) *memPeer {
	m := &memPeer{}
	m.onWrite = func(m *memPeer, p []byte) {
		if m.writes == 1 {
			m.script.Write(reply(p[1:]))
		}
	}
	return m
}

func TestClientInput(t *testing.T) {
	simpleS1 := first(refC1(80, 0, [4]byte{}, -1, nil))
	cat := func(p ...[]byte) []byte { return bytes.Join(p, nil) }
	simpleServer := func(c1 []byte) []byte { return cat([]byte{3}, simpleS1, c1) }
	tests := []struct {
		name     string
		cfg      handshake.Config
		reply    func(c1 []byte) []byte
		wantErrs []error
		notErr   error
		wantC2   bool
	}{
		{name: "S0 6 RTMPE", reply: func([]byte) []byte { return cat([]byte{6}, simpleS1) }, wantErrs: []error{handshake.ErrEncrypted, handshake.ErrVersion}},
		{name: "S0 4", reply: func([]byte) []byte { return cat([]byte{4}, simpleS1) }, wantErrs: []error{handshake.ErrVersion}, notErr: handshake.ErrEncrypted},
		{name: "S0 HTTP", reply: func([]byte) []byte { return []byte("HTTP/1.1 400 Bad Request\r\n\r\n") }, wantErrs: []error{handshake.ErrVersion}},
		{name: "EOF before S0", reply: func([]byte) []byte { return nil }, wantErrs: []error{io.ErrUnexpectedEOF}},
		{name: "ModeDigest refuses a simple server", cfg: handshake.Config{Mode: handshake.ModeDigest}, reply: simpleServer, wantErrs: []error{handshake.ErrDigest}},
		{name: "Strict refuses an S2 that is no echo", cfg: handshake.Config{Strict: true}, reply: func([]byte) []byte { return cat([]byte{3}, simpleS1, simpleS1) }, wantErrs: []error{handshake.ErrEcho}},
		{name: "S2 that is no echo tolerated", reply: func([]byte) []byte { return cat([]byte{3}, simpleS1, simpleS1) }, wantC2: true},
		{name: "simple server", reply: simpleServer, wantC2: true},
		{name: "invalid mode", cfg: handshake.Config{Mode: 3}, reply: simpleServer, wantErrs: []error{errAny}},
	}
	for _, n := range []int{0, 1, 1535, 1536, 3071} {
		tests = append(tests, struct {
			name     string
			cfg      handshake.Config
			reply    func(c1 []byte) []byte
			wantErrs []error
			notErr   error
			wantC2   bool
		}{
			name:     "S1S2 truncated at " + strconv.Itoa(n),
			reply:    func(c1 []byte) []byte { return simpleServer(c1)[:1+n] },
			wantErrs: []error{io.ErrUnexpectedEOF},
		})
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			name := tt.name
			if oneByte {
				name += "/one byte at a time"
			}
			t.Run(name, func(t *testing.T) {
				cfg := tt.cfg
				cfg.Rand = detRand(6)
				m := clientScript(tt.reply)
				var rw io.ReadWriter = m
				if oneByte {
					rw = struct {
						io.Reader
						io.Writer
					}{iotest.OneByteReader(m), m}
				}
				_, err := handshake.Client(rw, &cfg)
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
				wantWrites := 1
				if tt.wantC2 {
					wantWrites = 2
				}
				if tt.name == "invalid mode" {
					wantWrites = 0
				}
				if m.writes != wantWrites {
					t.Errorf("%d writes, want %d (C0C1 in one, C2 in another)", m.writes, wantWrites)
				}
			})
		}
	}
}

func TestClientVersionError(t *testing.T) {
	m := clientScript(func([]byte) []byte { return []byte{8} })
	_, err := handshake.Client(m, &handshake.Config{Rand: detRand(1)})
	var ve *handshake.VersionError
	if !errors.As(err, &ve) || ve.Packet != "S0" || ve.Version != 8 {
		t.Fatalf("err = %v, want a *VersionError for S0 version 8", err)
	}
}

// TestClientServer runs our Client against our Server over net.Pipe.
func TestClientServer(t *testing.T) {
	for _, tt := range []struct {
		name           string
		client, server handshake.Config
		wantKind       handshake.Kind
		clientErr      error
		serverErr      error
	}{
		{name: "auto-auto", wantKind: handshake.KindDigest},
		{name: "auto-auto strict", client: handshake.Config{Strict: true}, server: handshake.Config{Strict: true}, wantKind: handshake.KindDigest},
		{name: "simple-auto", client: handshake.Config{Mode: handshake.ModeSimple, Strict: true}, server: handshake.Config{Strict: true}, wantKind: handshake.KindSimple},
		{name: "auto-simple", client: handshake.Config{Strict: true}, server: handshake.Config{Mode: handshake.ModeSimple, Strict: true}, wantKind: handshake.KindSimple},
		{name: "digest-digest", client: handshake.Config{Mode: handshake.ModeDigest}, server: handshake.Config{Mode: handshake.ModeDigest}, wantKind: handshake.KindDigest},
		{name: "digest-simple", client: handshake.Config{Mode: handshake.ModeDigest}, server: handshake.Config{Mode: handshake.ModeSimple},
			clientErr: handshake.ErrDigest, serverErr: io.ErrUnexpectedEOF},
		{name: "simple-digest", client: handshake.Config{Mode: handshake.ModeSimple}, server: handshake.Config{Mode: handshake.ModeDigest},
			clientErr: io.ErrUnexpectedEOF, serverErr: handshake.ErrDigest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.client.Epoch, tt.server.Epoch = 1000, 2000
			conn, done := startPipe(t, runServer(&tt.server))
			cres, cerr := handshake.Client(conn, &tt.client)
			if cerr != nil {
				conn.Close()
			}
			o := <-done
			if !errors.Is(cerr, tt.clientErr) || (cerr == nil) != (tt.clientErr == nil) {
				t.Errorf("client err = %v, want %v", cerr, tt.clientErr)
			}
			if !errors.Is(o.err, tt.serverErr) || (o.err == nil) != (tt.serverErr == nil) {
				t.Errorf("server err = %v, want %v", o.err, tt.serverErr)
			}
			if cerr != nil || o.err != nil {
				return
			}
			for side, r := range map[string]handshake.Result{"client": cres, "server": o.res} {
				if r.Kind != tt.wantKind || !r.Verified || r.RequestedVersion != 3 {
					t.Errorf("%s: Result = %+v, want %v, verified", side, r, tt.wantKind)
				}
				if r.Kind == handshake.KindDigest && r.Schema != handshake.Schema1 {
					t.Errorf("%s: Schema = %v, want schema1", side, r.Schema)
				}
			}
			if cres.PeerEpoch != 2000 || o.res.PeerEpoch != 1000 {
				t.Errorf("PeerEpoch: client saw %d, server saw %d", cres.PeerEpoch, o.res.PeerEpoch)
			}
			if tt.wantKind == handshake.KindDigest &&
				(cres.PeerVersion != handshake.DefaultServerVersion || o.res.PeerVersion != handshake.DefaultClientVersion) {
				t.Errorf("PeerVersion: client saw % x, server saw % x", cres.PeerVersion, o.res.PeerVersion)
			}
		})
	}
}

// TestClientServerNilConfig: nil configs are the defaults.
func TestClientServerNilConfig(t *testing.T) {
	conn, done := startPipe(t, runServer(nil))
	cres, err := handshake.Client(conn, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil || cres.Kind != handshake.KindDigest || o.res.Kind != handshake.KindDigest {
		t.Fatalf("client %+v, server %+v, %v", cres, o.res, o.err)
	}
}
