package live_test

import (
	"context"
	"slices"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
)

// RequestReconnect asks the RTMP publishers that advertised
// CAPS_EX_RECONNECT, and only them, with the tcUrl given.
func TestRequestReconnect(t *testing.T) {
	hub := live.NewHub(live.Config{Logger: logTo(t)})
	addr := serveRTMP(t, hub)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	able, err := rtmp.DialPublish(ctx, "rtmp://"+addr+"/live/able", nil) // default: CapsReconnect
	if err != nil {
		t.Fatal(err)
	}
	defer able.Close()
	legacy, err := rtmp.DialPublish(ctx, "rtmp://"+addr+"/live/legacy", &rtmp.ClientConfig{Capabilities: &rtmp.Capabilities{}})
	if err != nil {
		t.Fatal(err)
	}
	defer legacy.Close()
	// An internal publisher is not RTMP: never asked.
	internal, err := hub.Publish(ctx, live.Key{App: "live", Name: "internal"}, live.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer internal.Close()

	asked := hub.RequestReconnect("rtmp://127.0.0.1:1/live", "moving")
	var ableID uint64
	for _, s := range hub.Sessions() {
		if s.Key.Name == "able" {
			ableID = s.ID
		}
	}
	if !slices.Equal(asked, []uint64{ableID}) || ableID == 0 {
		t.Fatalf("asked %v, want [%d] (the publisher of able)", asked, ableID)
	}
	for {
		ev, err := able.ReadEvent(ctx)
		if err != nil {
			t.Fatalf("no ReconnectRequest: %v", err)
		}
		if ev.Kind == rtmp.EventReconnectRequest {
			if ev.Reconnect == nil || ev.Reconnect.Port != 1 || ev.Description != "moving" {
				t.Fatalf("ReconnectRequest to %v (%q)", ev.Reconnect, ev.Description)
			}
			break
		}
	}
	short, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	for {
		ev, err := legacy.ReadEvent(short)
		if err != nil {
			break
		}
		if ev.Kind == rtmp.EventReconnectRequest {
			t.Fatal("a publisher without CAPS_EX_RECONNECT was asked to reconnect")
		}
	}
}
