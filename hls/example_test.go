package hls_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ertmp/rtmp/hls"
	"github.com/ertmp/rtmp/live"
)

// A hub's streams over HLS: mount the Server where /APP/STREAM/... paths
// reach it (httpapi.Root does so on `ertmp serve`'s HTTP listener). A
// stream nobody publishes is 404 once the hub's play wait is over.
func Example() {
	hub := live.NewHub(live.Config{PlayWait: 100 * time.Millisecond})
	srv, err := hls.NewServer(hub, hls.Options{Part: 300 * time.Millisecond, Segments: 5})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	web := httptest.NewServer(srv)
	defer web.Close()

	resp, err := http.Get(web.URL + "/live/cam/index.m3u8")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))

	_, err = hls.NewServer(hub, hls.Options{Part: 2 * time.Second})
	fmt.Println(errors.Is(err, hls.ErrBadOption))
	// Output:
	// 404 *
	// true
}
