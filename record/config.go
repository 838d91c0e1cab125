package record

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ertmp/rtmp/live"
)

// Defaults for Config fields left zero.
const (
	// DefaultPattern names files by app, stream and local start time:
	// DIR/live/cam-20250102-150405.flv.
	DefaultPattern = "{app}/{stream}-{time}.flv"
	// DefaultFlushInterval is how often buffered tags reach the file.
	DefaultFlushInterval = time.Second
	// DefaultQueueMaxBytes bounds what the recorder's subscription may
	// hold while the disk is slow. Past it the recorder loses video up to
	// the next key frame and reports the loss (it never silently drops).
	DefaultQueueMaxBytes = 64 << 20
)

// TimeLayout is the layout of {time} in a Pattern (local time).
const TimeLayout = "20060102-150405"

// Config is how a stream is recorded: the config file's
// record: {dir, pattern, rotate_after, rotate_size}.
type Config struct {
	// Dir is the directory files are written under (required).
	Dir string
	// Pattern names each file under Dir (DefaultPattern). It may hold
	// directories, made as needed, and these variables:
	//
	//	{app}     the stream's app
	//	{stream}  the stream's name
	//	{time}    the local time the file was opened, as TimeLayout
	//	{unix}    the same time in Unix seconds
	//	{seq}     the file's number in the recording: 0, 1, 2, ...
	//
	// App and stream names are made safe for a path (a "/" in them
	// becomes "_"). When the name is taken, "-1", "-2", ... is added
	// before the extension.
	Pattern string
	// RotateAfter starts a new file at the first key frame once the
	// current one holds this much media time (0: never).
	RotateAfter time.Duration
	// RotateSize starts a new file at the first key frame once the
	// current one has this many bytes (0: never).
	RotateSize int64
	// FlushInterval is how often buffered tags are written to the file
	// (DefaultFlushInterval); what a crash loses is at most this much.
	FlushInterval time.Duration
	// QueueMaxBytes bounds the recorder's queue in the hub
	// (DefaultQueueMaxBytes).
	QueueMaxBytes int
}

// ErrConfig: a Config that cannot record (no Dir, a pattern that leaves
// Dir).
var ErrConfig = errors.New("record: bad config")

// Validate reports what makes c unusable.
func (c *Config) Validate() error {
	if c.Dir == "" {
		return fmt.Errorf("%w: no dir", ErrConfig)
	}
	if c.RotateAfter < 0 || c.RotateSize < 0 {
		return fmt.Errorf("%w: negative rotation", ErrConfig)
	}
	p, err := c.path(live.Key{App: "app", Name: "stream"}, time.Unix(0, 0), 0)
	if err != nil {
		return err
	}
	if filepath.Ext(p) == "" {
		return fmt.Errorf("%w: pattern %q names files without an extension", ErrConfig, c.pattern())
	}
	return nil
}

func (c *Config) pattern() string {
	if c.Pattern == "" {
		return DefaultPattern
	}
	return c.Pattern
}

func (c *Config) flushInterval() time.Duration {
	if c.FlushInterval <= 0 {
		return DefaultFlushInterval
	}
	return c.FlushInterval
}

func (c *Config) queueMaxBytes() int {
	if c.QueueMaxBytes <= 0 {
		return DefaultQueueMaxBytes
	}
	return c.QueueMaxBytes
}

// path expands the pattern for a file of key opened at t, the seq-th of
// its recording. The result is always under Dir.
func (c *Config) path(key live.Key, t time.Time, seq int) (string, error) {
	r := strings.NewReplacer(
		"{app}", safeName(key.App),
		"{stream}", safeName(key.Name),
		"{time}", t.Format(TimeLayout),
		"{unix}", strconv.FormatInt(t.Unix(), 10),
		"{seq}", strconv.Itoa(seq),
	)
	rel := filepath.Clean(filepath.FromSlash(r.Replace(c.pattern())))
	if rel == "." || filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: pattern %q leaves the directory", ErrConfig, c.pattern())
	}
	return filepath.Join(c.Dir, rel), nil
}

// safeName makes a peer's app or stream name one path element: no
// separators, no control bytes, not "." or "..".
func safeName(s string) string {
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}
