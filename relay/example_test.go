package relay_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
	"github.com/ertmp/rtmp/relay"
)

// An edge and its origin: the edge's app "live" pulls a stream from the
// origin when a subscriber asks for it, and shares it with every local
// subscriber.
func Example_edge() {
	quiet := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The origin: a hub served over RTMP, with a stream published.
	origin := live.NewHub(live.Config{Logger: quiet})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &rtmp.Server{Handler: origin, Logger: quiet}
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)
	key := live.Key{App: "live", Name: "cam"}
	pub, err := origin.Publish(ctx, key, live.PublishOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer pub.Close()
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f}}) // AVC sequence header
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: 40, Payload: []byte{0x17, 1, 0, 0, 0, 'k'}})

	// The edge: pull: {url: rtmp://ORIGIN/live, on_demand: true, idle: 30s}.
	m := relay.NewManager(relay.Options{
		App: func(app string) relay.App {
			return relay.App{Pull: &relay.Upstream{URL: "rtmp://" + ln.Addr().String() + "/live", OnDemand: true, Idle: 30 * time.Second}}
		},
		Logger: quiet,
	})
	edge := live.NewHub(live.Config{Hooks: m.Hooks(), Logger: quiet})
	m.SetHub(edge)
	defer m.Shutdown(ctx)

	sub, err := edge.Subscribe(ctx, key, live.SubscribeOptions{}) // waits for the pull
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	for n := 0; n < 2; {
		items, err := sub.Read(ctx, nil)
		if err != nil {
			log.Fatal(err)
		}
		for _, it := range items {
			if p := it.Packet; p != nil {
				fmt.Printf("%v at %d ms, key frame %v, %d bytes\n", p.Type(), p.Timestamp(), p.IsKeyFrame(), len(p.Payload()))
				n++
			}
		}
	}
	st := m.Pulls()[0]
	fmt.Println(st.Key, st.State, "on demand:", st.OnDemand, "viewers:", st.Viewers)
	// Output:
	// Video at 40 ms, key frame false, 9 bytes
	// Video at 40 ms, key frame true, 6 bytes
	// live/cam connected on demand: true viewers: 1
}
