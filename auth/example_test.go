package auth_test

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/auth"
	"github.com/ertmp/rtmp/live"
)

// Keys and address lists for the app "live", used as a hub's hooks.
func Example() {
	a, err := auth.New(auth.Rules{Apps: map[string]auth.App{
		"live": {
			PublishKeys: []string{"s3cret-key"},
			DenyPlay:    []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		},
	}}, auth.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	hub := live.NewHub(live.Config{Hooks: live.JoinHooks(a.Hooks() /* , metrics... */)})
	_ = hub // serve it with rtmp.Server{Handler: hub}

	hooks := a.Hooks()
	ask := func(kind rtmp.Kind, stream, query, addr string) {
		q, _ := url.ParseQuery(query)
		s := &live.Session{Kind: kind, App: "live", Stream: stream, Query: q, RemoteAddr: addr}
		_, err := hooks.Authorize(context.Background(), s)
		fmt.Printf("%s %s?%s from %s: %v\n", kind, stream, a.Redact(query), addr, err)
	}
	ask(rtmp.KindPublish, "cam", "key=s3cret-key", "198.51.100.7:50000")
	ask(rtmp.KindPublish, "cam", "key=guess", "198.51.100.7:50000")
	ask(rtmp.KindPlay, "cam", "", "192.0.2.9:50000")
	// Output:
	// publish cam?key=[redacted] from 198.51.100.7:50000: <nil>
	// publish cam?key=guess from 198.51.100.7:50000: live: denied: invalid stream key
	// play cam? from 192.0.2.9:50000: live: denied: address not allowed
}
