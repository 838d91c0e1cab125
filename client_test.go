package rtmp_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/message"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// pipeHub relays one publisher to one player, in memory, for tests: the
// player waits for the publisher's packets and ends when it unpublishes.
func pipeHub(t *testing.T) (string, *rtmp.Request, chan *rtmp.Request) {
	t.Helper()
	ch := make(chan rtmp.Packet, 100000)
	reqs := make(chan *rtmp.Request, 4)
	base := serve(t, func(r *rtmp.Request) {
		reqs <- r
		switch r.Kind {
		case rtmp.KindPublish:
			ps, err := r.AcceptPublish()
			if err != nil {
				return
			}
			for {
				pk, err := ps.ReadPacket()
				if err != nil {
					close(ch)
					return
				}
				ch <- pk
			}
		case rtmp.KindPlay:
			ps, err := r.AcceptPlay(nil)
			if err != nil {
				return
			}
			for pk := range ch {
				if pk.Type == message.TypeDataAMF0 || pk.Type == message.TypeDataAMF3 {
					d, err := message.UnmarshalData(pk.Type, pk.Payload)
					if err == nil {
						ps.WriteMetadata(pk.Timestamp, d.Unwrap())
					}
					continue
				}
				ps.WritePacket(pk)
				if len(ch) == 0 {
					ps.Flush()
				}
			}
			ps.Flush()
			ps.Close()
		}
	})
	return base, nil, reqs
}

func readTags(t *testing.T, path string) []flv.Tag {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := flv.NewReader(bytes.NewReader(src))
	var tags []flv.Tag
	for {
		tag, err := r.ReadTag()
		if err == io.EOF {
			return tags
		}
		if err != nil {
			t.Fatal(err)
		}
		tag.Data = bytes.Clone(tag.Data)
		tags = append(tags, tag)
	}
}

// Every tag of the E-RTMP samples and of FFmpeg 9's multitrack file goes
// publish → server → play byte-exact (media tags, and onMetaData).
func TestClientPublishPlayByteExact(t *testing.T) {
	files, _ := filepath.Glob("testdata/eflv/*.flv")
	files = append(files, "testdata/ffmpeg/multitrack.flv", "testdata/ffmpeg/hevc.flv", "testdata/ffmpeg/ac3.flv", modExFile(t))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			base, _, reqs := pipeHub(t)
			url := base + "/live/" + strings.TrimSuffix(filepath.Base(f), ".flv")
			pub, err := rtmp.DialPublish(ctx(t), url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r := <-reqs; r.StreamName != strings.TrimSuffix(filepath.Base(f), ".flv") || r.PublishType != "live" || !r.Capabilities.Multitrack() || !r.Capabilities.CanReceiveVideo(flv.FourCCAV1) {
				t.Fatalf("server saw capabilities %+v", r.Capabilities)
			}
			play, err := rtmp.DialPlay(ctx(t), url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c := play.ServerCapabilities(); !c.Multitrack() || !c.Reconnect() {
				t.Fatalf("client saw server capabilities %+v", c)
			}
			src := readTags(t, f)
			for _, tag := range src {
				if err := pub.WriteTag(tag); err != nil {
					t.Fatal(err)
				}
			}
			if err := pub.Close(); err != nil {
				t.Fatal(err)
			}
			var got []flv.Tag
			for {
				pk, err := play.ReadPacket()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, flv.Tag{Type: flv.TagType(pk.Type), Timestamp: pk.Timestamp, Data: pk.Payload})
			}
			play.Close()
			if len(got) != len(src) {
				t.Fatalf("%d tags played, %d published", len(got), len(src))
			}
			for i := range src {
				if got[i].Type != src[i].Type || got[i].Timestamp != src[i].Timestamp || !bytes.Equal(got[i].Data, src[i].Data) {
					t.Fatalf("tag %d differs: %v@%d %d bytes vs %v@%d %d bytes", i, got[i].Type, got[i].Timestamp, len(got[i].Data), src[i].Type, src[i].Timestamp, len(src[i].Data))
				}
			}
		})
	}
}

func TestClientRejectedKey(t *testing.T) {
	base := serve(t, func(r *rtmp.Request) { r.Reject("", "bad stream key") })
	_, err := rtmp.DialPublish(ctx(t), base+"/live/wrong?key=1", nil)
	var se *rtmp.StatusError
	if !errors.As(err, &se) || se.Code != message.CodePublishBadName || se.Description != "bad stream key" {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "NetStream.Publish.BadName") || !strings.Contains(err.Error(), "bad stream key") {
		t.Errorf("message %q does not name the code and description", err)
	}
	_, err = rtmp.DialPlay(ctx(t), base+"/live/none", nil)
	if !errors.As(err, &se) || se.Code != message.CodePlayStreamNotFound {
		t.Fatalf("play: err = %v", err)
	}
}

func TestClientNoServer(t *testing.T) {
	port := interop.FreePort(t)
	_, err := rtmp.DialPublish(ctx(t), "rtmp://127.0.0.1:"+strconv.Itoa(port)+"/live/x", nil)
	if err == nil || !strings.Contains(err.Error(), "dial") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v, want a dial error saying refused", err)
	}
	if _, err := rtmp.DialPublish(ctx(t), "http://127.0.0.1/live/x", nil); !errors.Is(err, rtmp.ErrURL) {
		t.Fatalf("http URL: err = %v", err)
	}
	if _, err := rtmp.DialPublish(ctx(t), "rtmp://127.0.0.1/live", nil); !errors.Is(err, rtmp.ErrURL) {
		t.Fatalf("no stream: err = %v", err)
	}
}

// A server that stops answering mid-stream: the player's read times out
// with an error that says so.
func TestClientServerStopsAnswering(t *testing.T) {
	stall := make(chan struct{})
	base := serve(t, func(r *rtmp.Request) {
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			return
		}
		ps.WritePacket(rtmp.Packet{Type: message.TypeAudio, Payload: []byte{0xAF, 1, 2}})
		ps.Flush()
		<-stall
	})
	t.Cleanup(func() { close(stall) }) // runs before serve's cleanup
	play, err := rtmp.DialPlay(ctx(t), base+"/live/x", &rtmp.ClientConfig{Conn: rtmp.ConnConfig{ReadTimeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer play.Close()
	start := time.Now()
	var rerr error
	for rerr == nil {
		_, rerr = play.ReadPacket()
	}
	var ne net.Error
	if !errors.As(rerr, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", rerr)
	}
	if !strings.Contains(rerr.Error(), "timeout") {
		t.Errorf("message %q does not say timeout", rerr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestClientReconnectRequestToSecondServer(t *testing.T) {
	second := make(chan *rtmp.Request, 1)
	baseB := serve(t, func(r *rtmp.Request) { second <- r; r.AcceptPublish() })
	u, _ := rtmp.ParseURL(baseB + "/moved")
	baseA := serve(t, func(r *rtmp.Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		ps.SendReconnectRequest(u.TcURL(), "maintenance")
		for {
			if _, err := ps.ReadPacket(); err != nil {
				return
			}
		}
	})
	pub, err := rtmp.DialPublish(ctx(t), baseA+"/live/key?k=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	var to *rtmp.URL
	for to == nil {
		ev, err := pub.ReadEvent(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == rtmp.EventReconnectRequest {
			if ev.Description != "maintenance" {
				t.Errorf("description %q", ev.Description)
			}
			to = ev.Reconnect
		}
	}
	if to.App != "moved" || to.Stream != "key?k=1" || to.Host != "127.0.0.1" {
		t.Fatalf("reconnect to %s", to)
	}
	pub2, err := rtmp.DialPublish(ctx(t), to.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pub.Close()
	r := <-second
	if r.App != "moved" || r.StreamName != "key" || r.Query.Get("k") != "1" {
		t.Fatalf("second server got %+v", r)
	}
	pub2.Close()
}

// AMF3 metadata, data frames and an aggregate reach the server's
// PublishSession as the publisher sent them: data messages as they are (a
// server keeps what it needs of them, see live), the aggregate split.
func TestClientAMF3MetadataAndAggregate(t *testing.T) {
	got := make(chan rtmp.Packet, 16)
	base := serve(t, func(r *rtmp.Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		for {
			pk, err := ps.ReadPacket()
			if err != nil {
				close(got)
				return
			}
			got <- pk
		}
	})
	pub, err := rtmp.DialPublish(ctx(t), base+"/live/m", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.WriteMetadata(0, amf0.Object{{Key: "width", Value: 1280.0}, {Key: "encoder", Value: "ertmp"}}, true); err != nil {
		t.Fatal(err)
	}
	// Two more frames, one cleared again: onMetaData and onCuePoint remain.
	pub.WriteData(0, message.Data{Values: []amf0.Value{"@setDataFrame", "onTextData", amf0.Object{}}})
	pub.WriteData(0, message.Data{Values: []amf0.Value{"@setDataFrame", "onCuePoint", amf0.Object{}}})
	pub.ClearDataFrame(0, "onTextData")
	if err := pub.WriteAggregate([]rtmp.Packet{
		{Type: message.TypeAudio, Timestamp: 100, Payload: []byte{0xAF, 1, 1}},
		{Type: message.TypeVideo, Timestamp: 120, Payload: []byte{0x27, 1, 0, 0, 0, 2}},
	}); err != nil {
		t.Fatal(err)
	}
	pub.Close()
	var pks []rtmp.Packet
	for pk := range got {
		pks = append(pks, pk)
	}
	if len(pks) != 6 || pks[0].Type != message.TypeDataAMF3 || pks[4].Timestamp != 100 || pks[5].Timestamp != 120 || pks[5].Type != message.TypeVideo {
		t.Fatalf("packets = %+v", pks)
	}
	var names []string
	for _, pk := range pks[:4] {
		d, err := message.UnmarshalData(pk.Type, pk.Payload)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := d.Unwrap().Name()
		names = append(names, name)
		if md, ok := d.Unwrap().MetaData(); ok {
			if w, _ := md.GetNumber("width"); w != 1280 {
				t.Fatalf("AMF3 onMetaData read back as %#v", d)
			}
		}
	}
	if fmt.Sprint(names) != "[onMetaData onTextData onCuePoint @clearDataFrame]" {
		t.Fatalf("data messages %q", names)
	}
}

// selfSigned returns a TLS certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ertmp test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestClientRTMPS(t *testing.T) {
	cert, pool := selfSigned(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan rtmp.Packet, 1)
	s := &rtmp.Server{Handler: rtmp.HandlerFunc(func(r *rtmp.Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		pk, _ := ps.ReadPacket()
		got <- pk
	})}
	go s.Serve(ln)
	defer s.Close()
	url := "rtmps://" + ln.Addr().String() + "/live/secure"
	// Untrusted certificate: a TLS error.
	if _, err := rtmp.DialPublish(ctx(t), url, nil); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("untrusted: err = %v, want a TLS error", err)
	}
	pub, err := rtmp.DialPublish(ctx(t), url, &rtmp.ClientConfig{TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: 7, Payload: []byte{0x17, 1, 0, 0, 0, 1}})
	select {
	case pk := <-got:
		if pk.Timestamp != 7 || pk.Type != message.TypeVideo {
			t.Fatalf("packet %+v", pk)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing arrived over RTMPS")
	}
}

func TestClientPlayerControls(t *testing.T) {
	events := make(chan rtmp.Event, 8)
	bufLen := make(chan uint32, 1)
	base := serve(t, func(r *rtmp.Request) {
		bufLen <- r.BufferLength
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			return
		}
		for {
			ev, err := ps.ReadEvent()
			if err != nil {
				close(events)
				return
			}
			events <- ev
			if ev.Kind == rtmp.EventSeek {
				ps.NotifySeek(ev.Millis)
				ps.WritePacket(rtmp.Packet{Type: message.TypeAudio, Timestamp: uint32(ev.Millis), Payload: []byte{0xAF, 1}})
				ps.Flush()
			}
		}
	})
	play, err := rtmp.DialPlay(ctx(t), base+"/vod/clip", &rtmp.ClientConfig{BufferLength: 1500})
	if err != nil {
		t.Fatal(err)
	}
	play.Pause(true, 100)
	play.ReceiveVideo(false)
	play.Seek(4000)
	if n := <-bufLen; n != 1500 {
		t.Fatalf("buffer length before play = %d", n)
	}
	want := []rtmp.EventKind{rtmp.EventPause, rtmp.EventReceiveVideo, rtmp.EventSeek}
	for i, k := range want {
		ev := <-events
		if ev.Kind != k {
			t.Fatalf("event %d = %v, want %v", i, ev.Kind, k)
		}
	}
	// The seek's StreamEOF does not end the stream: the packet after it arrives.
	pk, err := play.ReadPacket()
	if err != nil || pk.Type != message.TypeAudio || pk.Timestamp != 4000 {
		t.Fatalf("after seek: %+v, %v", pk, err)
	}
	play.Close()
}

// modExFile writes an FLV file of Enhanced RTMP tags no encoder here makes:
// ModEx TimestampOffsetNano on video and audio, a ManyTracksManyCodecs
// video tag, and a ManyTracks audio tag.
func modExFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "modex.flv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, _ := flv.NewWriter(f, flv.NewHeader(true, true))
	add := func(typ flv.TagType, ts uint32, body []byte, err error) {
		if err != nil {
			t.Fatal(err)
		}
		w.WriteTag(flv.Tag{Type: typ, Timestamp: ts, Data: body})
	}
	v := flv.VideoTag{Enhanced: true, FrameType: flv.FrameKey, PacketType: flv.VideoCodedFrames, FourCC: flv.FourCCHEVC,
		ModEx: flv.NanoOffset(123456), CompositionTime: 40, Data: []byte{0, 0, 0, 2, 0x26, 0x01}}
	b, err := v.Append(nil)
	add(flv.TagVideo, 0, b, err)
	a := flv.AudioTag{SoundFormat: flv.SoundExHeader, PacketType: flv.AudioCodedFrames, FourCC: flv.FourCCOpus, ModEx: flv.NanoOffset(500), Data: []byte{0xF8, 0xFF}}
	b, err = a.Append(nil)
	add(flv.TagAudio, 20, b, err)
	mv, err := flv.MultitrackVideo(flv.FrameInter, flv.VideoCodedFrames, flv.NanoOffset(7),
		flv.Track{ID: 0, FourCC: flv.FourCCAVC, CompositionTime: -20, Data: []byte{0, 0, 0, 1, 0x41}},
		flv.Track{ID: 1, FourCC: flv.FourCCAV1, Data: []byte{0x12, 0}})
	if err != nil {
		t.Fatal(err)
	}
	b, err = mv.Append(nil)
	add(flv.TagVideo, 40, b, err)
	ma, err := flv.MultitrackAudio(flv.AudioCodedFrames, nil,
		flv.Track{ID: 0, FourCC: flv.FourCCAAC, Data: []byte{0x21}}, flv.Track{ID: 3, FourCC: flv.FourCCAAC, Data: []byte{0x22, 0x23}})
	if err != nil {
		t.Fatal(err)
	}
	b, err = ma.Append(nil)
	add(flv.TagAudio, 41, b, err)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}

// What a server sends to start playback (|RtmpSampleAccess and the onStatus
// NetStream.Data.Start data message) arrives as events, not as stream data:
// ReadPacket returns exactly what the server's handler wrote.
func TestPlayerPlaybackDataAsEvents(t *testing.T) {
	base := serve(t, func(r *rtmp.Request) {
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			return
		}
		ps.WriteMetadata(0, message.NewOnMetaData(amf0.Object{{Key: "width", Value: 640.0}}))
		ps.WritePacket(rtmp.Packet{Type: message.TypeAudio, Timestamp: 10, Payload: []byte{0xAF, 1, 0x21}})
		// An aggregate carrying data: its sub-messages are sorted too.
		agg, _ := message.AppendAggregate(nil, []message.SubMessage{
			{Type: message.TypeDataAMF0, Timestamp: 20, StreamID: ps.StreamID(), Payload: mustPayload(t, message.Data{Values: []amf0.Value{message.RtmpSampleAccess, false, false}})},
			{Type: message.TypeVideo, Timestamp: 20, StreamID: ps.StreamID(), Payload: []byte{0x17, 1, 0, 0, 0, 1}},
		})
		ps.WritePacket(rtmp.Packet{Type: message.TypeAggregate, Timestamp: 20, Payload: agg})
		ps.Close()
	})
	play, err := rtmp.DialPlay(ctx(t), base+"/live/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer play.Close()
	var got []string
	for {
		pk, err := play.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s := pk.Type.String() + "@" + strconv.Itoa(int(pk.Timestamp))
		if pk.Type == message.TypeDataAMF0 {
			d, _ := message.UnmarshalData(pk.Type, pk.Payload)
			name, _ := d.Name()
			s += " " + name
		}
		got = append(got, s)
	}
	want := []string{message.TypeDataAMF0.String() + "@0 onMetaData", message.TypeAudio.String() + "@10", message.TypeVideo.String() + "@20"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("packets:\n got %q\nwant %q", got, want)
	}
	var access []bool
	var dataStart *rtmp.ClientEvent
	for {
		ev, err := play.ReadEvent(ctx(t))
		if err != nil {
			break
		}
		switch {
		case ev.Kind == rtmp.EventSampleAccess:
			if len(ev.Data.Values) != 3 || ev.StreamID != play.StreamID() {
				t.Fatalf("sample access event %+v", ev)
			}
			a, _ := ev.Data.Values[1].(bool)
			access = append(access, a)
		case ev.Kind == rtmp.EventStatus && ev.Code == message.CodeDataStart:
			dataStart = &ev
		}
	}
	if len(access) != 2 || !access[0] || access[1] {
		t.Errorf("sample access events %v, want [true false]", access)
	}
	if dataStart == nil || dataStart.Command.Name != "" || len(dataStart.Data.Values) != 2 {
		t.Errorf("NetStream.Data.Start event %+v", dataStart)
	}
}

func mustPayload(t *testing.T, m message.Message) []byte {
	b, err := m.AppendPayload(nil)
	if err != nil {
		t.Error(err)
	}
	return b
}
