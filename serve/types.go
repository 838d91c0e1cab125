package serve

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/auth"
	"github.com/ertmp/rtmp/record"
)

// The value types of a Config: each reads itself from YAML and names the
// line of a bad value; those that flags also set are flag.Values.

// valueError is a bad value at a line, as yaml.v3 reports its own (so that
// every error of a file is reported at once).
func valueError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)}}
}

// scalar returns a node's scalar text, or an error for a list or a map.
func scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", valueError(n, "want %s, not a %s", what, kindName(n.Kind))
	}
	return n.Value, nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "map"
	}
	return "value"
}

// Duration is a time.Duration written as "10s", "1m30s", "-1s".
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "a duration such as 10s")
	if err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return valueError(n, "%q is not a duration (10s, 1m30s, 500ms)", s)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ByteSize is a count of bytes written as 4096, 512K, 16MiB or 1G (powers
// of 1024).
type ByteSize int

func (b *ByteSize) String() string { return strconv.Itoa(int(*b)) }

// Set parses a size (flag.Value).
func (b *ByteSize) Set(s string) error {
	mult := 1
	t := strings.TrimSuffix(strings.TrimSuffix(s, "iB"), "B")
	switch {
	case strings.HasSuffix(t, "K"), strings.HasSuffix(t, "k"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, t[:len(t)-1]
	}
	n, err := strconv.Atoi(t)
	if err != nil || n > (1<<62)/mult || n < -(1<<62)/mult {
		return fmt.Errorf("invalid size %q", s)
	}
	*b = ByteSize(n * mult)
	return nil
}

func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "a size such as 16MiB")
	if err != nil {
		return err
	}
	if err := b.Set(s); err != nil {
		return valueError(n, "%q is not a size (4096, 512K, 16MiB, 1G)", s)
	}
	return nil
}

func (b ByteSize) MarshalYAML() (any, error) {
	switch v := int(b); {
	case v != 0 && v%(1<<30) == 0:
		return strconv.Itoa(v>>30) + "GiB", nil
	case v != 0 && v%(1<<20) == 0:
		return strconv.Itoa(v>>20) + "MiB", nil
	case v != 0 && v%(1<<10) == 0:
		return strconv.Itoa(v>>10) + "KiB", nil
	}
	return int(b), nil
}

// Addr is a listen address: "host:port", ":port", or empty for off.
type Addr string

func (a *Addr) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "an address such as :1935")
	if err != nil {
		return err
	}
	if err := checkAddr(s); err != nil {
		return valueError(n, "%v", err)
	}
	*a = Addr(s)
	return nil
}

func checkAddr(s string) error {
	if s == "" {
		return nil
	}
	if _, port, err := net.SplitHostPort(s); err != nil {
		return fmt.Errorf("address %q: want host:port or :port", s)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("address %q: bad port", s)
	}
	return nil
}

// TLSAddr is the RTMPS listen address: like Addr, and a host alone takes
// port 443 (rtmps://'s default).
type TLSAddr string

func (a *TLSAddr) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "an address such as :443")
	if err != nil {
		return err
	}
	if err := checkAddr(withTLSPort(s)); err != nil {
		return valueError(n, "%v", err)
	}
	*a = TLSAddr(s)
	return nil
}

// withTLSPort adds port 443 to an address that has none.
func withTLSPort(s string) string {
	if s == "" {
		return s
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	h := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	return net.JoinHostPort(h, strconv.Itoa(rtmp.DefaultTLSPort))
}

// Key is a stream key (see auth.CheckKey).
type Key string

func (k *Key) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "a key")
	if err != nil {
		return err
	}
	if err := auth.CheckKey(s); err != nil {
		return valueError(n, "%v", err)
	}
	*k = Key(s)
	return nil
}

// AddrList is a list of addresses and prefixes (see auth.ParseAddrList).
type AddrList []string

func (l *AddrList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return valueError(n, "want a list of addresses and prefixes, such as [10.0.0.0/8, 192.0.2.7]")
	}
	var out AddrList
	var errs []string
	for _, e := range n.Content {
		s, err := scalar(e, "an address or prefix")
		if err == nil {
			_, err = auth.ParseAddr(s)
			if err != nil {
				err = valueError(e, "%v", err)
			}
		}
		if err != nil {
			errs = append(errs, err.(*yaml.TypeError).Errors...)
			continue
		}
		out = append(out, s)
	}
	if errs != nil {
		return &yaml.TypeError{Errors: errs}
	}
	*l = out
	return nil
}

// HookURL is an HTTP hook's URL (http or https), or empty.
type HookURL string

func (u *HookURL) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "a URL")
	if err != nil {
		return err
	}
	if err := auth.CheckHookURL(s); err != nil {
		return valueError(n, "%v", err)
	}
	*u = HookURL(s)
	return nil
}

// Failure is a hook failure policy: "refuse" or "allow".
type Failure string

func (f *Failure) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "refuse or allow")
	if err != nil {
		return err
	}
	if _, err := auth.ParseFailure(s); err != nil {
		return valueError(n, "hook_failure %q: want refuse or allow", s)
	}
	*f = Failure(s)
	return nil
}

// ReconnectURL is the tcUrl a drain sends publishers to: an rtmp:// or
// rtmps:// URL, or empty for the one they used.
type ReconnectURL string

func (u *ReconnectURL) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "an rtmp:// URL")
	if err != nil {
		return err
	}
	if err := checkReconnectURL(s); err != nil {
		return valueError(n, "%v", err)
	}
	*u = ReconnectURL(s)
	return nil
}

func checkReconnectURL(s string) error {
	if s == "" {
		return nil
	}
	if _, err := rtmp.ParseURL(s); err != nil {
		return fmt.Errorf("reconnect_url: %v", err)
	}
	return nil
}

// LogLevel is debug, info, warn or error.
type LogLevel string

func (l *LogLevel) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "a log level")
	if err != nil {
		return err
	}
	if err := checkLevel(s); err != nil {
		return valueError(n, "%v", err)
	}
	*l = LogLevel(s)
	return nil
}

func checkLevel(s string) error {
	switch s {
	case "debug", "info", "warn", "error":
		return nil
	}
	return fmt.Errorf("log level %q: want debug, info, warn or error", s)
}

// LogFormat is text or json.
type LogFormat string

func (f *LogFormat) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "a log format")
	if err != nil {
		return err
	}
	if s != "text" && s != "json" {
		return valueError(n, "log format %q: want text or json", s)
	}
	*f = LogFormat(s)
	return nil
}

// ChunkSize is the RTMP chunk size the server writes with.
type ChunkSize uint32

func (c *ChunkSize) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "a chunk size")
	if err != nil {
		return err
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || checkChunkSize(uint64(v)) != nil {
		return valueError(n, "chunk_size %q: want 128 to 2147483647", s)
	}
	*c = ChunkSize(v)
	return nil
}

func checkChunkSize(v uint64) error {
	if v < 128 || v > 0x7FFFFFFF {
		return fmt.Errorf("chunk size %d: want 128 to 2147483647", v)
	}
	return nil
}

// redactURL hides a hook URL's credentials for printing.
func redactURL(u HookURL) HookURL {
	if u == "" {
		return u
	}
	return HookURL(auth.RedactURL(string(u)))
}

// RecordConfig is an app's record: key (record.Config); an empty Dir
// records nothing.
type RecordConfig struct {
	Dir         string   `yaml:"dir"`
	Pattern     string   `yaml:"pattern"`
	RotateAfter Duration `yaml:"rotate_after"`
	RotateSize  ByteSize `yaml:"rotate_size"`
}

func (r RecordConfig) config() record.Config {
	return record.Config{Dir: r.Dir, Pattern: r.Pattern, RotateAfter: time.Duration(r.RotateAfter), RotateSize: int64(r.RotateSize)}
}

// RelayURL is an rtmp:// or rtmps:// URL of a push target or an upstream.
type RelayURL string

func (u *RelayURL) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "an rtmp:// or rtmps:// URL")
	if err != nil {
		return err
	}
	if s != "" {
		if !strings.HasPrefix(s, "rtmp://") && !strings.HasPrefix(s, "rtmps://") {
			return valueError(n, "%q: want an rtmp:// or rtmps:// URL", auth.RedactURL(s))
		}
		if _, err := rtmp.ParseURL(strings.ReplaceAll(s, "{stream}", "stream")); err != nil {
			return valueError(n, "%q: %v", auth.RedactURL(s), err)
		}
	}
	*u = RelayURL(s)
	return nil
}

// PullConfig is an app's pull: key (relay.Upstream); an empty URL pulls
// nothing. The streams listed are pulled from the start (static pulls),
// each from URL + "/" + name as the same name here; with on_demand, any
// other stream is pulled when a player asks for it (an edge). A URL with
// neither is a config error.
type PullConfig struct {
	URL      RelayURL `yaml:"url"`
	OnDemand bool     `yaml:"on_demand"`
	Idle     Duration `yaml:"idle"`
	Streams  []string `yaml:"streams"`
}
