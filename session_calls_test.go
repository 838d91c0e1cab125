package rtmp_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

// serveWith is serve with server settings.
func serveWith(t *testing.T, s *rtmp.Server, h rtmp.HandlerFunc) string {
	t.Helper()
	s.Handler = h
	return serveServer(t, s)
}

// sharedObjects are the shared object messages of the round trips: every
// kind of event data, in each encoding, one of them persistent.
func sharedObjects() []message.SharedObject {
	so0 := message.SharedObject{Name: "chat", Version: 3, Events: []message.SharedObjectEvent{
		{Type: message.SOUse},
		{Type: message.SORequestChange, Name: "topic", Value: "codecs"},
		{Type: message.SOSendMessage, Values: []amf0.Value{"say", "hello", 2.0}},
	}}
	so0.SetPersistent(true)
	so3 := message.SharedObject{AMF3: true, Name: "board", Version: 1, Events: []message.SharedObjectEvent{
		{Type: message.SOChange, Name: "x", Value: amf0.AMF3{Value: 12.5}},
		{Type: message.SOSendMessage, Values: []amf0.Value{"move", amf0.AMF3{Value: "left"}}},
		{Type: message.SOStatus, Code: "SharedObject.BadPersistence", Level: "error"},
	}}
	return []message.SharedObject{so0, so3}
}

func sameSO(t *testing.T, what string, got, want message.SharedObject) {
	t.Helper()
	a, err1 := got.AppendPayload(nil)
	b, err2 := want.AppendPayload(nil)
	if err1 != nil || err2 != nil || string(a) != string(b) || got.AMF3 != want.AMF3 || got.Persistent() != want.Persistent() {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
}

// nextEvent reads client events until one of kind.
func nextEvent(t *testing.T, read func(context.Context) (rtmp.ClientEvent, error), kind rtmp.ClientEventKind) rtmp.ClientEvent {
	t.Helper()
	for {
		ev, err := read(ctx(t))
		if err != nil {
			t.Fatalf("waiting for %v: %v", kind, err)
		}
		if ev.Kind == kind {
			return ev
		}
	}
}

// Shared objects round-trip over TCP between our client and server, in
// each direction, AMF0 (type 19) and AMF3 (type 16), on every session
// type: server publish and play sessions, client Publisher and Player.
func TestSharedObjectsRoundTrip(t *testing.T) {
	sos := sharedObjects()
	type result struct {
		kind rtmp.Kind
		got  []message.SharedObject
		err  error
	}
	results := make(chan result, 2)
	base := serve(t, func(r *rtmp.Request) {
		var got []message.SharedObject
		switch r.Kind {
		case rtmp.KindPublish:
			ps, err := r.AcceptPublish()
			if err != nil {
				return
			}
			for len(got) < len(sos) {
				pk, err := ps.ReadPacket()
				if err != nil {
					results <- result{r.Kind, got, err}
					return
				}
				m, err := pk.Message()
				if so, ok := m.(message.SharedObject); ok && err == nil {
					got = append(got, so)
				}
			}
			for _, so := range sos {
				ps.SendSharedObject(so)
			}
			results <- result{r.Kind, got, nil}
			for {
				if _, err := ps.ReadPacket(); err != nil {
					return
				}
			}
		case rtmp.KindPlay:
			ps, err := r.AcceptPlay(nil)
			if err != nil {
				return
			}
			for len(got) < len(sos) {
				ev, err := ps.ReadEvent()
				if err != nil {
					results <- result{r.Kind, got, err}
					return
				}
				if ev.Kind == rtmp.EventSharedObject {
					got = append(got, ev.SharedObject)
				}
			}
			for _, so := range sos {
				ps.SendSharedObject(so)
			}
			results <- result{r.Kind, got, nil}
			<-ps.Done()
		}
	})
	pub, err := rtmp.DialPublish(ctx(t), base+"/live/so", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	play, err := rtmp.DialPlay(ctx(t), base+"/live/so", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer play.Close()
	for _, so := range sos {
		if err := pub.SendSharedObject(so); err != nil {
			t.Fatal(err)
		}
		if err := play.SendSharedObject(so); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatalf("%v session: %v", r.kind, r.err)
		}
		for i := range sos {
			sameSO(t, r.kind.String()+" session received", r.got[i], sos[i])
		}
	}
	for _, c := range []struct {
		name string
		read func(context.Context) (rtmp.ClientEvent, error)
	}{{"Publisher", pub.ReadEvent}, {"Player", play.ReadEvent}} {
		for i := range sos {
			ev := nextEvent(t, c.read, rtmp.EventServerSharedObject)
			sameSO(t, c.name+" received", ev.SharedObject, sos[i])
		}
	}
}

// Calls in both directions: the server calls its client and gets the
// answer (command object and values) the client gives with Reply; the
// client calls the server (Server.HandleCalls) and gets its Reply or
// ReplyError; Send wants no answer.
func TestCallsBothDirections(t *testing.T) {
	info := amf0.Object{{Key: "level", Value: "status"}, {Key: "code", Value: "Info"}}
	serverGot := make(chan error, 2)
	srv := &rtmp.Server{HandleCalls: true}
	base := serveWith(t, srv, func(r *rtmp.Request) {
		ask := message.Command{Name: "whoAreYou", Object: amf0.Object{{Key: "kind", Value: r.Kind.String()}}, Args: []amf0.Value{"please"}}
		check := func(res message.Command, err error) {
			if err == nil {
				obj, _ := res.CommandObject()
				if v, _ := obj.GetString("name"); v != "ertmp" || !reflect.DeepEqual(res.Args, []amf0.Value{r.Kind.String(), 42.0}) {
					err = errors.New("answer " + res.Name + " differs")
				}
			}
			serverGot <- err
		}
		switch r.Kind {
		case rtmp.KindPublish:
			ps, err := r.AcceptPublish()
			if err != nil {
				return
			}
			// The answer is read by ReadPacket: the call waits on another
			// goroutine while this one reads.
			go func() { check(ps.Call(context.Background(), ask)) }()
			for {
				pk, err := ps.ReadPacket()
				if err != nil {
					return
				}
				m, _ := pk.Message()
				call, ok := m.(message.Command)
				if !ok {
					continue
				}
				switch call.Name {
				case "add":
					a, _ := call.NumberArg(0)
					b, _ := call.NumberArg(1)
					ps.Reply(call, amf0.Object{{Key: "op", Value: "add"}}, a+b)
				case "fail":
					ps.ReplyError(call, nil, message.NewStatus(message.LevelError, "App.Failed", "as asked").Object())
				case "note":
					ps.Reply(call, nil, "never sent: a note has no transaction id")
					ps.SendStatus(message.NewStatus(message.LevelStatus, "App.Noted", "noted"))
				}
			}
		case rtmp.KindPlay:
			ps, err := r.AcceptPlay(nil)
			if err != nil {
				return
			}
			check(ps.Call(ctx(t), ask))
			ps.SendStatus(message.Status{Level: message.LevelStatus, Code: message.CodePlayPublishNotify, Description: "custom", Props: info})
			<-ps.Done()
		}
	})
	answer := func(read func(context.Context) (rtmp.ClientEvent, error), reply func(message.Command, amf0.Value, ...amf0.Value) error, kind string) {
		ev := nextEvent(t, read, rtmp.EventServerCall)
		for ev.Command.Name == message.NameOnFCPublish {
			ev = nextEvent(t, read, rtmp.EventServerCall)
		}
		obj, _ := ev.Command.CommandObject()
		if v, _ := obj.GetString("kind"); ev.Command.Name != "whoAreYou" || v != kind || ev.Command.TransactionID == 0 {
			t.Fatalf("server call %+v", ev.Command)
		}
		if err := reply(ev.Command, amf0.Object{{Key: "name", Value: "ertmp"}}, kind, 42.0); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := rtmp.DialPublish(ctx(t), base+"/live/c", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	answer(pub.ReadEvent, pub.Reply, "publish")
	if err := <-serverGot; err != nil {
		t.Fatalf("publish session's call: %v", err)
	}
	res, err := pub.Call(ctx(t), message.Command{Name: "add", Object: amf0.Object{{Key: "v", Value: 1.0}}, Args: []amf0.Value{2.0, 3.0}})
	if err != nil || res.Name != message.NameResult || !reflect.DeepEqual(res.Args, []amf0.Value{5.0}) {
		t.Fatalf("add: %+v, %v", res, err)
	}
	if obj, _ := res.CommandObject(); obj == nil {
		t.Fatalf("add: no command object in %+v", res)
	}
	_, err = pub.Call(ctx(t), message.Command{Name: "fail"})
	var se *rtmp.StatusError
	if !errors.As(err, &se) || se.Code != "App.Failed" {
		t.Fatalf("fail: %v", err)
	}
	if err := pub.Send(message.Command{Name: "note"}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, pub.ReadEvent, rtmp.EventStatus); ev.Code != "App.Noted" || ev.StreamID != pub.StreamID() {
		t.Fatalf("status after the note: %+v", ev)
	}

	play, err := rtmp.DialPlay(ctx(t), base+"/live/c", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer play.Close()
	answer(play.ReadEvent, play.ReplyError, "play")
	var ce *rtmp.StatusError
	if err := <-serverGot; !errors.As(err, &ce) {
		t.Fatalf("play session's call answered _error: %v, want a *StatusError", err)
	}
	for {
		ev := nextEvent(t, play.ReadEvent, rtmp.EventStatus)
		if ev.Code == message.CodePlayPublishNotify {
			if ev.Description != "custom" || ev.StreamID != play.StreamID() {
				t.Fatalf("SendStatus: %+v", ev)
			}
			break
		}
	}
}

// Without Server.HandleCalls, the server answers a call nobody handles
// with _error NetConnection.Call.Failed, also after publish.
func TestCallUnhandled(t *testing.T) {
	base := serve(t, func(r *rtmp.Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		for {
			if _, err := ps.ReadPacket(); err != nil {
				return
			}
		}
	})
	pub, err := rtmp.DialPublish(ctx(t), base+"/live/u", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	_, err = pub.Call(ctx(t), message.Command{Name: "nobodyHome", Args: []amf0.Value{1.0}})
	var se *rtmp.StatusError
	if !errors.As(err, &se) || se.Code != message.CodeCallFailed {
		t.Fatalf("unhandled call: %v, want NetConnection.Call.Failed", err)
	}
}

// Start 0 and duration 0 reach the server as sent; without PlayArgs the
// defaults go. play and play2 on an open player reach a server that
// handles them; one that does not answers play2 with NetStream.Play.Failed.
func TestPlayerArgsAndPlaylist(t *testing.T) {
	reqs := make(chan *rtmp.Request, 4)
	events := make(chan rtmp.Event, 8)
	srv := &rtmp.Server{HandleCalls: true}
	base := serveWith(t, srv, func(r *rtmp.Request) {
		reqs <- r
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			return
		}
		for {
			ev, err := ps.ReadEvent()
			if err != nil {
				return
			}
			if ev.Kind == rtmp.EventPlay || ev.Kind == rtmp.EventPlay2 {
				events <- ev
				ps.SendStatus(message.NewStatus(message.LevelStatus, message.CodePlayStart, "next: "+ev.Command.Name))
			}
		}
	})
	p, err := rtmp.DialPlay(ctx(t), base+"/vod/clip", &rtmp.ClientConfig{PlayArgs: &message.Play{Start: 0, Duration: 0, Reset: false}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := <-reqs
	if r.Start != 0 || r.Duration != 0 || r.Reset {
		t.Fatalf("play args start %v duration %v reset %v, want 0 0 false", r.Start, r.Duration, r.Reset)
	}
	if err := p.SendPlay(message.Play{Name: "clip2", Start: 10, Duration: 5, Reset: false}); err != nil {
		t.Fatal(err)
	}
	if err := p.SendPlay2(message.Play2{Params: amf0.Object{{Key: "streamName", Value: "clip_hi"}, {Key: "transition", Value: "switch"}}}); err != nil {
		t.Fatal(err)
	}
	ev := <-events
	if v := ev.Play; ev.Kind != rtmp.EventPlay || v.Name != "clip2" || v.Start != 10 || v.Duration != 5 || v.Reset || ev.Command.Name != message.NamePlay {
		t.Fatalf("play on the open player: %v %+v", ev.Kind, v)
	}
	ev = <-events
	if ev.Kind != rtmp.EventPlay2 {
		t.Fatalf("play2: event %v", ev.Kind)
	} else if name, _ := ev.Play2.Params.GetString("streamName"); name != "clip_hi" {
		t.Fatalf("play2 params %v", ev.Play2.Params)
	}
	for _, want := range []string{"next: play", "next: play2"} {
		for {
			ev := nextEvent(t, p.ReadEvent, rtmp.EventStatus)
			if ev.Code == message.CodePlayStart && ev.Description == want {
				break
			}
		}
	}

	q, err := rtmp.DialPlay(ctx(t), base+"/vod/clip", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	r = <-reqs
	if r.Start != message.PlayStartDefault || r.Duration != message.PlayDurationDefault || !r.Reset {
		t.Fatalf("default play args %v %v %v", r.Start, r.Duration, r.Reset)
	}

	plain := serve(t, func(r *rtmp.Request) {
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			return
		}
		<-ps.Done()
	})
	u, err := rtmp.DialPlay(ctx(t), plain+"/vod/clip", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.SendPlay2(message.Play2{Params: amf0.Object{{Key: "streamName", Value: "x"}}})
	for {
		ev := nextEvent(t, u.ReadEvent, rtmp.EventStatus)
		if ev.Code == message.CodePlayFailed {
			break
		}
	}
}

// Publisher, Player and Request report the handshake: digest (schema 1 by
// default) when both sides offer it, simple when the client asks for it.
func TestHandshakeReported(t *testing.T) {
	got := make(chan handshake.Result, 2)
	base := serve(t, func(r *rtmp.Request) {
		got <- r.Handshake
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		for {
			if _, err := ps.ReadPacket(); err != nil {
				return
			}
		}
	})
	pub, err := rtmp.DialPublish(ctx(t), base+"/live/h", nil)
	if err != nil {
		t.Fatal(err)
	}
	if hs := pub.Handshake(); hs.Kind != handshake.KindDigest {
		t.Fatalf("client handshake %+v, want digest", hs)
	}
	if hs := <-got; hs.Kind != handshake.KindDigest || hs.Schema != pub.Handshake().Schema {
		t.Fatalf("server handshake %+v, client's %+v", hs, pub.Handshake())
	}
	pub.Close()
	simple, err := rtmp.DialPublish(ctx(t), base+"/live/h2", &rtmp.ClientConfig{Handshake: handshake.Config{Mode: handshake.ModeSimple}})
	if err != nil {
		t.Fatal(err)
	}
	defer simple.Close()
	if hs := simple.Handshake(); hs.Kind != handshake.KindSimple {
		t.Fatalf("client handshake %+v, want simple", hs)
	}
	select {
	case hs := <-got:
		if hs.Kind != handshake.KindSimple {
			t.Fatalf("server handshake %+v, want simple", hs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no request")
	}
}

// WriteTag sets a bare onMetaData with @setDataFrame, as encoders do, and
// sends one that already is @setDataFrame as it is (not wrapped twice).
func TestPublisherWriteTagMetadata(t *testing.T) {
	got := make(chan message.Data, 2)
	base := serve(t, func(r *rtmp.Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		for {
			pk, err := ps.ReadPacket()
			if err != nil {
				return
			}
			if d, err := message.UnmarshalData(pk.Type, pk.Payload); err == nil {
				got <- d
			}
		}
	})
	pub, err := rtmp.DialPublish(ctx(t), base+"/live/m", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	meta := amf0.NewECMAArray(amf0.Property{Key: "width", Value: 640.0})
	for _, d := range []message.Data{message.NewOnMetaData(meta), message.NewSetDataFrame(meta)} {
		b, err := d.AppendPayload(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.WriteTag(flv.Tag{Type: flv.TagScript, Data: b}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		d := <-got
		if !d.IsSetDataFrame() || len(d.Values) != 3 || d.Values[1] != message.OnMetaData {
			t.Fatalf("data frame %d: %#v, want @setDataFrame onMetaData once", i, d.Values)
		}
	}
}
