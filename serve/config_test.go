package serve

import (
	"reflect"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/auth"
	"github.com/ertmp/rtmp/live"
)

// The built-in defaults are the packages' defaults, and an empty file
// changes nothing.
func TestDefaults(t *testing.T) {
	c := Default()
	if c.Listen != rtmp.DefaultAddr || c.HTTP != ":8080" || c.RTMPS != "" || !c.ReusePort {
		t.Errorf("listeners: %q %q %q", c.Listen, c.HTTP, c.RTMPS)
	}
	if time.Duration(c.RTMP.HandshakeTimeout) != rtmp.DefaultHandshakeTimeout || time.Duration(c.RTMP.RequestTimeout) != rtmp.DefaultRequestTimeout ||
		time.Duration(c.RTMP.ReadTimeout) != rtmp.DefaultReadTimeout || time.Duration(c.RTMP.WriteTimeout) != rtmp.DefaultWriteTimeout ||
		c.RTMP.ChunkSize != rtmp.DefaultChunkSize || c.RTMP.MaxConns != rtmp.DefaultMaxConns || c.RTMP.MaxConnsPerIP != rtmp.DefaultMaxConnsPerIP ||
		int(c.RTMP.MaxRequestMessageSize) != rtmp.DefaultMaxRequestMessageSize {
		t.Errorf("rtmp defaults differ from package rtmp's: %+v", c.RTMP)
	}
	l := c.Live
	if time.Duration(l.PlayWait) != live.DefaultPlayWait || time.Duration(l.RepublishGrace) != live.DefaultRepublishGrace ||
		l.GOPPackets != live.DefaultGOPMaxPackets || int(l.GOPBytes) != live.DefaultGOPMaxBytes || int(l.QueueBytes) != live.DefaultQueueMaxBytes ||
		time.Duration(l.QueueDelay) != live.DefaultQueueMaxDelay || time.Duration(l.SlowTimeout) != live.DefaultSlowConsumerTimeout ||
		time.Duration(l.PingInterval) != live.DefaultPingInterval || l.MaxStreams != live.DefaultMaxStreams || l.MaxPlayers != live.DefaultMaxPlayers {
		t.Errorf("live defaults differ from package live's: %+v", l)
	}
	if d := c.Apps[auth.DefaultApp]; time.Duration(d.HookTimeout) != auth.DefaultHookTimeout || d.HookFailure != "refuse" {
		t.Errorf("apps.default: %+v", d)
	}
	for _, empty := range []string{"", "# nothing\n", "---\n"} {
		e, err := Parse([]byte(empty), "empty.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(e, c) {
			t.Errorf("%q: %+v, want the defaults", empty, e)
		}
	}
	// What YAML writes, Parse reads back.
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out, "printed.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("printed and read back:\n%s", out)
	}
}

// everything sets every key of the schema to a value that is not its
// default.
const everything = `
listen: 127.0.0.1:1936
http: 127.0.0.1:8081
rtmps: 127.0.0.1:1443
tls_cert: /etc/ertmp/cert.pem
tls_key: /etc/ertmp/key.pem
api_token: tok-secret-1
pprof: 127.0.0.1:6061
reuse_port: false
shutdown_timeout: 7s
memory_budget: 200MiB
gc_percent: 50
memory_trim: 30s
log: {level: debug, format: json}
drain:
  timeout: 3s
  reconnect_url: rtmp://other.example:1935/live
  description: moving to the new box
rtmp:
  chunk_size: 8192
  handshake_timeout: 3s
  request_timeout: 4s
  read_timeout: 5s
  write_timeout: 6s
  max_conns: 10
  max_conns_per_ip: 2
  max_request_message_size: 32KiB
live:
  replace_publisher: true
  play_wait: 1s
  republish_grace: 2s
  gop_packets: 100
  gop_bytes: 1MiB
  queue_bytes: 2MiB
  queue_delay: 3s
  slow_timeout: 4s
  send_buffer: 256KiB
  ping_interval: 5s
  ping_timeout: 20s
  max_streams: 7
  max_players: 8
  forward_undeclared: true
  merge_window: 35ms
  merge_bytes: 64KiB
cluster:
  nats: [nats://nuser:nats-url-pw@nats1.example:4222, nats://nats2.example:4222]
  advertise: rtmp://node1.example:1935
  bucket: other-streams
  ttl: 3s
  node: node-1
  user: nats-user
  password: nats-pass-1
  token: nats-tok-1
  creds: /etc/ertmp/nats.creds
  idle: 10s
hls: {enabled: false, part: 300ms, segment: 3s, segments: 5, idle: 1m, max_blocked: 50}
apps:
  default:
    publish_keys: [pub-key-1]
    play_keys: [play-key-1]
    allow_publish: [10.0.0.0/8]
    deny_publish: [all]
    allow_play: [192.0.2.7]
    deny_play: ["::1"]
    on_connect: http://hooks.example/connect
    on_publish: http://hooks.example/publish
    on_play: http://hooks.example/play
    on_publish_done: http://hooks.example/publish_done
    on_play_done: http://hooks.example/play_done
    on_record_done: http://hooks.example/record_done
    hook_timeout: 2s
    hook_failure: allow
    max_streams: 3
    max_players: 4
    gop_packets: 100
    gop_bytes: 4MiB
    queue_bytes: 8MiB
    queue_delay: 2s
    slow_timeout: 4s
    record: {dir: /var/rec, pattern: "{app}-{stream}-{unix}.flv", rotate_after: 10m, rotate_size: 512MiB}
    push: ["rtmp://a.example/live/{stream}", "rtmps://b.example/app/key"]
    pull: {url: rtmp://origin.example/live, on_demand: true, idle: 45s, streams: [always]}
`

// Every setting can be set from the file: each field of the result
// differs from the default.
func TestEverySetting(t *testing.T) {
	c, err := Parse([]byte(everything), "everything.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var walk func(path string, got, def reflect.Value)
	n := 0
	walk = func(path string, got, def reflect.Value) {
		switch got.Kind() {
		case reflect.Struct:
			for i := range got.NumField() {
				walk(path+"."+got.Type().Field(i).Tag.Get("yaml"), got.Field(i), def.Field(i))
			}
		case reflect.Map:
			for _, k := range got.MapKeys() {
				walk(path+"."+k.String(), got.MapIndex(k), def.MapIndex(k))
			}
		default:
			n++
			if reflect.DeepEqual(got.Interface(), def.Interface()) {
				t.Errorf("%s: not set by the file (%v)", path, got.Interface())
			}
		}
	}
	walk("", reflect.ValueOf(*c), reflect.ValueOf(*Default()))
	if n < 50 {
		t.Errorf("only %d settings walked", n)
	}
	// And reach what they configure.
	hc, rs := c.hubConfig(), c.rtmpServer()
	if hc.MaxPlayers != 8 || hc.SendBuffer != 256<<10 || !hc.ForwardUndeclared || hc.PingTimeout != 20*time.Second || hc.Budget.Limit() != 200<<20 {
		t.Errorf("hub config %+v", hc)
	}
	if rs.ChunkSize != 8192 || rs.MaxConnsPerIP != 2 || rs.Conn.WriteTimeout != 6*time.Second || rs.MaxRequestMessageSize != 32<<10 {
		t.Errorf("rtmp server %+v", rs)
	}
	r, err := c.authRules()
	if err != nil {
		t.Fatal(err)
	}
	if a := r.Apps["default"]; a.HookFailure != auth.FailAllow || a.HookTimeout != 2*time.Second || len(a.DenyPublish) != 2 || a.OnRecordDone == "" {
		t.Errorf("auth rules %+v", a)
	}
	d := c.Apps["default"]
	if rc, ok := d.recordConfig(); !ok || rc.RotateSize != 512<<20 || rc.RotateAfter != 10*time.Minute {
		t.Errorf("record config %+v", rc)
	}
	if ra := d.relayApp(); len(ra.Push) != 2 || ra.Pull == nil || !ra.Pull.OnDemand || ra.Pull.Idle != 45*time.Second {
		t.Errorf("relay config %+v", ra)
	}
	if nc := c.nodeConfig(); len(nc.NATS) != 2 || nc.ID != "node-1" || nc.TTL != 3*time.Second || nc.Idle != 10*time.Second ||
		nc.Creds != "/etc/ertmp/nats.creds" || !nc.ReplacePublisher {
		t.Errorf("cluster config %+v", nc)
	}
}

// Unknown keys and bad values fail with their lines, all of them at once.
func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, file string
		want       []string
	}{
		{"typo", "listen: :1935\n\nlsiten: :1936\n", []string{"typo.yaml: line 3: unknown key lsiten"}},
		{"typo in app", "apps:\n  live:\n    publish_key: [abcdefgh]\n", []string{"line 3: unknown key publish_key"}},
		{"typo in section", "live:\n  gop_packet: 3\n", []string{"line 2: unknown key gop_packet"}},
		{"bad values", "rtmp:\n  chunk_size: 1\nlive:\n  play_wait: soon\n  gop_bytes: 12Q\n", []string{"line 2: chunk_size", "line 4: \"soon\" is not a duration", "line 5: \"12Q\" is not a size"}},
		{"bad app values", "apps:\n  live:\n    publish_keys: [\"has space\"]\n    allow_play: [10.0.0.0/8, 10.0.0.0/33]\n    on_publish: ftp://x/\n    hook_failure: maybe\n",
			[]string{"line 3: auth: bad key", "line 4: auth: \"10.0.0.0/33\"", "line 5: auth: hook URL", "line 6: hook_failure \"maybe\""}},
		{"wrong shape", "apps: [live]\n", []string{"line 1:"}},
		{"bad address", "listen: nowhere\n", []string{"line 1: address \"nowhere\""}},
		{"bad reconnect", "drain:\n  reconnect_url: http://x/\n", []string{"line 2: reconnect_url"}},
		{"syntax", "listen: [\n", []string{"syntax.yaml: line"}},
		{"rtmps without cert", "rtmps: :1443\n", []string{"rtmps (-rtmps) needs tls_cert and tls_key"}},
		{"bad level", "log: {level: loud}\n", []string{"line 1: log level \"loud\""}},
		{"static pull without streams", "apps:\n  live:\n    pull: {url: rtmp://o/live}\n", []string{"apps.live.pull: a static pull (on_demand: false) needs streams"}},
		{"bad push", "apps:\n  live:\n    push: [http://x/]\n", []string{"line 3: \"http://x/\": want an rtmp:// or rtmps:// URL"}},
		{"record without dir", "apps:\n  live:\n    record: {rotate_after: 1m}\n", []string{"apps.live.record: no dir"}},
	} {
		_, err := Parse([]byte(c.file), c.name+".yaml")
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant it to say %q", c.name, err, w)
			}
		}
	}
}

// An app takes the keys it does not set from apps.default, which takes
// those it does not set from the built-in default.
func TestAppInheritance(t *testing.T) {
	c, err := Parse([]byte(`
apps:
  default:
    publish_keys: [shared-key]
    on_publish: http://hooks.example/p
  live:
    play_keys: [live-play]
  open:
    publish_keys: []
`), "apps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, l, o := c.Apps["default"], c.Apps["live"], c.Apps["open"]
	if len(d.PublishKeys) != 1 || time.Duration(d.HookTimeout) != auth.DefaultHookTimeout || d.HookFailure != "refuse" {
		t.Errorf("default %+v", d)
	}
	if len(l.PublishKeys) != 1 || l.PublishKeys[0] != "shared-key" || l.OnPublish != d.OnPublish || len(l.PlayKeys) != 1 {
		t.Errorf("live %+v", l)
	}
	if len(o.PublishKeys) != 0 || o.OnPublish != d.OnPublish {
		t.Errorf("open %+v", o)
	}
	for name, want := range map[string]string{"live": "live", "live/studio": "live", "other": "other", "open": "open"} {
		if _, counted := c.appOf(name); counted != want {
			t.Errorf("appOf(%q) counts under %q, want %q", name, counted, want)
		}
	}
}

// -print-config shows no secret.
func TestRedacted(t *testing.T) {
	c, err := Parse([]byte(everything+`  live:
    publish_keys: [live-secret-9]
    on_publish: https://user:hunter2@hooks.example/p?token=abc123
`), "secrets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Redacted().YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"pub-key-1", "play-key-1", "live-secret-9", "tok-secret-1", "hunter2", "abc123", "nats-pass-1", "nats-tok-1", "nats-url-pw"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("the printed config shows %q:\n%s", secret, out)
		}
	}
	for _, shown := range []string{"user:xxxxx@hooks.example/p?token=xxxxx", "publish_keys:\n      - '[redacted]'", "api_token: '[redacted]'", "/etc/ertmp/key.pem"} {
		if !strings.Contains(string(out), shown) {
			t.Errorf("the printed config lacks %q:\n%s", shown, out)
		}
	}
	if c.Apps["live"].PublishKeys[0] != "live-secret-9" {
		t.Error("Redacted changed the original")
	}
}
