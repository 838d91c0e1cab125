package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	server "github.com/ertmp/rtmp/serve"
)

const serveUsage = `usage: ertmp serve [-config FILE] [flags]

Runs a live RTMP server: publishers send to rtmp://HOST/APP/KEY, players
watch the same URL. Settings come from the built-in defaults, then the
-config file (YAML; see -print-config), then the flags.

SIGHUP reloads the file: keys, address lists, hooks, per-app limits, the
TLS certificate and the API token apply to new sessions. SIGTERM or SIGINT
drains (publishers that can reconnect are asked to, within the drain
timeout) and shuts down politely (players get StreamEOF, publishers a
polite close) within -shutdown-timeout.

flags:
`

// serveCmd runs "ertmp serve" until SIGINT or SIGTERM; SIGHUP reloads.
func serveCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return serveWith(ctx, args, stdout, stderr, nil, hup)
}

// uintFlag is a flag.Value for a uint32 setting.
type uintFlag struct{ p *server.ChunkSize }

func (u uintFlag) String() string {
	if u.p == nil {
		return "0"
	}
	return strconv.FormatUint(uint64(*u.p), 10)
}

func (u uintFlag) Set(s string) error {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return err
	}
	*u.p = server.ChunkSize(v)
	return nil
}

// listFlag is a flag.Value for a list setting: comma-separated, it
// replaces the file's list.
type listFlag struct{ p *[]string }

func (l listFlag) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

func (l listFlag) Set(s string) error {
	*l.p = nil
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l.p = append(*l.p, v)
		}
	}
	return nil
}

// serveFlags are the flags that are not settings.
type serveFlags struct {
	config      string
	printConfig bool
}

// flagSet binds the flags to c: parsing args over a loaded file makes the
// flags override it.
func flagSet(c *server.Config, f *serveFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ertmp serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	str := func(p *string, name, usage string) { fs.StringVar(p, name, *p, usage) }
	dur := func(p *server.Duration, name, usage string) {
		fs.DurationVar((*time.Duration)(p), name, time.Duration(*p), usage)
	}
	num := func(p *int, name, usage string) { fs.IntVar(p, name, *p, usage) }
	boolean := func(p *bool, name, usage string) { fs.BoolVar(p, name, *p, usage) }

	fs.StringVar(&f.config, "config", "", "YAML configuration `file` read on top of the built-in defaults")
	fs.BoolVar(&f.printConfig, "print-config", false, "print the effective configuration (secrets redacted) and exit")
	str((*string)(&c.Listen), "listen", "TCP `address` of RTMP")
	str((*string)(&c.HTTP), "http", "`address` of the HTTP side: /healthz, /metrics, /v1/ (empty: off)")
	str((*string)(&c.RTMPS), "rtmps", "`address` of RTMP over TLS, e.g. :443 (a host alone takes port 443; empty: off)")
	str(&c.TLSCert, "tls-cert", "PEM certificate chain `file` for -rtmps (reloaded on SIGHUP)")
	str((*string)(&c.Pprof), "pprof", "`address` of Go's profiling endpoints /debug/pprof/, e.g. 127.0.0.1:6060 (no auth; empty: off)")
	str(&c.TLSKey, "tls-key", "PEM private key `file` for -rtmps (reloaded on SIGHUP)")

	fs.Var(uintFlag{&c.RTMP.ChunkSize}, "chunk-size", "chunk size the server writes with")
	dur(&c.RTMP.HandshakeTimeout, "handshake-timeout", "bound on the handshake")
	dur(&c.RTMP.RequestTimeout, "request-timeout", "bound from handshake to publish or play")
	dur(&c.RTMP.ReadTimeout, "read-timeout", "a peer that sends nothing for this long is closed (negative: never)")
	num(&c.RTMP.MaxConns, "max-conns", "most connections at once (negative: no limit)")
	num(&c.RTMP.MaxConnsPerIP, "max-conns-per-ip", "most connections at once from one IP address (negative: no limit)")
	dur(&c.RTMP.WriteTimeout, "write-timeout", "bound on each write to a peer (negative: none)")

	boolean(&c.Live.ReplacePublisher, "replace-publisher", "a second publisher of a key replaces the first (default: it is rejected)")
	dur(&c.Live.PlayWait, "play-wait", "how long a player waits for a stream not yet published (negative: no wait)")
	dur(&c.Live.RepublishGrace, "republish-grace", "how long players wait for a publisher to return (negative: none)")
	num(&c.Live.GOPPackets, "gop-packets", "GOP cache bound in packets (negative: no GOP cache)")
	fs.Var(&c.Live.GOPBytes, "gop-bytes", "GOP cache bound in bytes, e.g. 16MiB (negative: no GOP cache)")
	fs.Var(&c.Live.QueueBytes, "queue-bytes", "bound on each player's queue in bytes (negative: none)")
	dur(&c.Live.QueueDelay, "queue-delay", "bound on how long a packet waits in a player's queue (negative: none)")
	dur(&c.Live.SlowTimeout, "slow-timeout", "a player behind for this long is closed as a slow consumer (negative: never)")
	fs.Var(&c.Live.SendBuffer, "send-buffer", "socket send buffer per player, e.g. 256KiB (0: the OS's autotuning)")
	dur(&c.Live.PingInterval, "ping-interval", "how often players are pinged (negative: never)")
	dur(&c.Live.PingTimeout, "ping-timeout", "longest a pinged player may stay silent before it is closed (0: three ping intervals)")
	num(&c.Live.MaxStreams, "max-streams", "most streams published at once (negative: no limit)")
	num(&c.Live.MaxPlayers, "max-players", "most players of one stream (negative: no limit)")
	boolean(&c.Live.ForwardUndeclared, "forward-undeclared", "send Enhanced RTMP codecs to players that declared no Enhanced RTMP capability")
	dur(&c.Live.MergeWindow, "merge-window", "let a publisher's packets gather this long before players write them (negative: at once)")

	fs.Var(listFlag{&c.Cluster.NATS}, "nats", "NATS server `URLs` (comma-separated) of the cluster's stream registry (empty: a single node)")
	str(&c.Cluster.Advertise, "advertise", "this node's RTMP address for the other nodes of the cluster, rtmp://HOST:PORT")

	dur(&c.Drain.Timeout, "drain-timeout", "on SIGTERM, how long publishers asked to reconnect have to leave (0: no drain, shut down at once)")
	str((*string)(&c.Drain.ReconnectURL), "reconnect-url", "the tcUrl publishers are asked to reconnect to on SIGTERM (empty: the one they used)")
	dur(&c.ShutdownTimeout, "shutdown-timeout", "bound on a graceful shutdown; past it connections are closed")
	str((*string)(&c.Log.Level), "log-level", "log level: debug, info, warn or error")
	str((*string)(&c.Log.Format), "log-format", "log format: text or json")
	return fs
}

// loadServe reads the configuration that args say: the defaults, the
// -config file, the flags.
func loadServe(args []string, stderr io.Writer) (*server.Config, *serveFlags, error) {
	c, f := server.Default(), &serveFlags{}
	fs := flagSet(c, f, stderr)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return nil, nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if f.config != "" {
		var err error
		if c, err = server.Load(f.config); err != nil {
			return nil, nil, err
		}
		fs = flagSet(c, &serveFlags{}, io.Discard)
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
	}
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	return c, f, nil
}

func newLogger(w io.Writer, c *server.Config) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(c.Log.Level)) // validated
	opts := &slog.HandlerOptions{Level: lv}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the server until ctx ends, then drains and shuts down. ready,
// when set, gets the RTMP listening address. It returns the exit status:
// 0 after a shutdown, 1 when the server cannot run, 2 for bad flags or
// configuration.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(net.Addr)) int {
	return serveWith(ctx, args, stdout, stderr, ready, nil)
}

// serveWith is serve that reloads the configuration at each value of hup.
func serveWith(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(net.Addr), hup <-chan os.Signal) int {
	c, f, err := loadServe(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ertmp serve: %v\n", err)
		return 2
	}
	if f.printConfig {
		out, err := c.Redacted().YAML()
		if err != nil {
			fmt.Fprintf(stderr, "ertmp serve: %v\n", err)
			return 1
		}
		stdout.Write(out)
		return 0
	}
	log := newLogger(stderr, c)
	if c.MemoryBudget > 0 && os.Getenv("GOMEMLIMIT") == "" {
		// The runtime's soft limit follows the budget: what peers make
		// the server keep, and as much again for what the budget does not
		// count (read buffers and slabs of every connection, what is in
		// flight) and the runtime's own. At 1.5 times, 200 publishers of
		// 3 Mbit/s kept the live heap at the limit and the collector ran
		// without pause: 3.2 times the CPU per ingested Gbit. GOMEMLIMIT,
		// when set, decides instead.
		debug.SetMemoryLimit(int64(c.MemoryBudget) * 2)
	}
	if c.GCPercent > 0 && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(c.GCPercent)
	}
	if every := time.Duration(c.MemoryTrim); every > 0 {
		tctx, stop := context.WithCancel(ctx)
		defer stop()
		go trimMemoryEvery(tctx, every, log)
	}
	srv, err := server.New(c, server.Options{Logger: log})
	if err != nil {
		fmt.Fprintf(stderr, "ertmp serve: %v\n", err)
		return 2
	}
	if err := srv.Listen(); err != nil {
		log.Error("ertmp: listen", "err", err)
		return 1
	}
	if ready != nil {
		ready(srv.Addr())
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-hup:
				c, _, err := loadServe(args, io.Discard)
				if err == nil {
					err = srv.Reload(c)
				}
				if err != nil {
					srv.Logger().Error("ertmp: reload failed; the configuration in force stays", "err", err)
				}
			case <-done:
				return
			}
		}
	}()
	if err := srv.Run(ctx); err != nil {
		return 1
	}
	return 0
}
