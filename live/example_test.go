package live_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
)

// A live server: publishers need ?key=secret on the stream name; players
// wait up to 2 s for a stream that is not published yet.
func Example() {
	hub := live.NewHub(live.Config{
		PlayWait: 2 * time.Second,
		Hooks: live.Hooks{Authorize: func(_ context.Context, s *live.Session) (string, error) {
			if s.Kind == rtmp.KindPublish && s.Query.Get("key") != "secret" {
				return "", live.Deny("wrong stream key")
			}
			return "", nil
		}},
	})
	srv := &rtmp.Server{Handler: hub}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)

	// ... ffmpeg -re -i in.flv -c copy -f flv rtmp://HOST/live/cam?key=secret
	// ... ffplay rtmp://HOST/live/cam

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub.Shutdown(ctx) // players get StreamEOF, publishers a polite close
	srv.Shutdown(ctx)
	fmt.Println(len(hub.Streams()), "streams")
	// Output: 0 streams
}
