package httpapi_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/live"
)

// An API comes before its hub, whose hooks it feeds; the hub is set once
// it exists. /v1/ asks for the token, /healthz does not.
func Example() {
	api := httpapi.New(httpapi.Options{Token: "s3cret"})
	hub := live.NewHub(live.Config{Hooks: live.JoinHooks(api.Hooks()), Logger: slog.New(slog.DiscardHandler)})
	api.SetHub(hub)
	srv := httptest.NewServer(api)
	defer srv.Close()

	get := func(path, token string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%s %d %s", path, resp.StatusCode, body)
	}
	get("/healthz", "")
	get("/v1/streams", "")
	get("/v1/streams", "s3cret")
	api.SetDraining(true)
	get("/healthz", "")
	// Output:
	// /healthz 200 ok
	// /v1/streams 401 {"error":"missing or wrong bearer token"}
	// /v1/streams 200 {"streams":[]}
	// /healthz 503 draining
}
