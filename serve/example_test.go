package serve_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/ertmp/rtmp/serve"
)

// A server from a configuration file's text, with a handler of its own on
// the HTTP listener.
func Example() {
	cfg, err := serve.Parse([]byte(`
listen: 127.0.0.1:0
http: 127.0.0.1:0
apps:
  live:
    publish_keys: [my-stream-key]
`), "ertmp.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := serve.New(cfg, serve.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.HTTPMux().HandleFunc("/hello", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") })
	if err := srv.Listen(); err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Run(ctx) }()

	resp, err := http.Get("http://" + srv.HTTPAddr().String() + "/healthz")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("healthz: %s", b)
	}
	fmt.Println(srv.Redact("live/my-stream-key"))
	stop()
	select {
	case err := <-done:
		fmt.Println("stopped:", err)
	case <-time.After(10 * time.Second):
		fmt.Println("still running")
	}
	// Output:
	// healthz: ok
	// live/[redacted]
	// stopped: <nil>
}
