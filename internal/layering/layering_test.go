// Package layering holds a test that keeps the dependency direction of
// DESIGN.md §1: codecs import only the standard library and lower codecs,
// nothing below live imports live, and only cmd/ and the server assembly
// (serve/) import httpapi.
package layering

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/ertmp/rtmp"

// allowed lists, for each package, the project packages it may import
// (internal/* helpers are checked separately). A package missing here may
// import any project package except those ruled out below.
var allowed = map[string][]string{
	"amf3":      {},
	"amf0":      {"amf3"},
	"flv":       {"amf0", "amf3"},
	"handshake": {},
	"chunk":     {},
	"message":   {"amf0", "amf3", "flv"},
	"codecinfo": {"flv"}, // flv.FourCC names the codec to parse
	"fmp4":      {"flv", "codecinfo"},
}

// internalOK lists internal packages a codec may use.
var internalOK = map[string]bool{"internal/pool": true, "internal/writev": true}

func TestLayering(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil {
			return nil // no Go files
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		checked++
		for _, imp := range pkg.Imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if msg := violation(rel, dep); msg != "" {
				t.Errorf("%s imports %s: %s", rel, dep, msg)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 5 {
		t.Fatalf("checked only %d packages", checked)
	}
}

func violation(pkg, dep string) string {
	top := strings.SplitN(dep, "/", 2)[0]
	if ok, listed := allowed[pkg]; listed {
		if strings.HasPrefix(dep, "internal/") {
			if internalOK[dep] {
				return ""
			}
			return "codec packages use no internal helpers"
		}
		for _, a := range ok {
			if a == dep {
				return ""
			}
		}
		return "codec packages import only the standard library and lower codecs"
	}
	if top == "httpapi" && !(strings.HasPrefix(pkg, "cmd/") || pkg == "serve" || strings.HasPrefix(pkg, "serve/") || strings.HasPrefix(pkg, "httpapi/")) {
		return "only cmd/ and serve/ import httpapi"
	}
	if top == "live" && !(strings.HasPrefix(pkg, "cmd/") || strings.HasPrefix(pkg, "live") || pkg == "record" || pkg == "relay" || pkg == "hls" || pkg == "cluster" || pkg == "httpapi" || pkg == "auth" || pkg == "serve" || strings.HasPrefix(pkg, "examples/")) {
		return "nothing below live imports live"
	}
	if (top == "record" || top == "relay") && (pkg == "live" || strings.HasPrefix(pkg, "live/") || !strings.Contains(pkg, "/") && !(pkg == "serve" || pkg == "httpapi" || pkg == "cluster" || pkg == top)) {
		return "outputs and sources are built on live; live and the layers below import none of them"
	}
	if top == "cmd" {
		return "nothing imports cmd/"
	}
	return ""
}

// The rules themselves must catch a bad import.
func TestViolationCatches(t *testing.T) {
	for _, c := range [][2]string{{"amf0", "flv"}, {"chunk", "amf0"}, {"flv", "internal/probe"}, {"live", "httpapi"}, {"record", "httpapi"}, {"examples/httpflv", "httpapi"}, {".", "live"}, {"message", "chunk"}, {"codecinfo", "message"}, {"flv", "codecinfo"}, {"fmp4", "live"}, {"fmp4", "message"}, {"fmp4", "internal/interop"}, {"flv", "fmp4"}} {
		if violation(c[0], c[1]) == "" {
			t.Errorf("%s importing %s passes", c[0], c[1])
		}
	}
	for _, c := range [][2]string{{"flv", "amf0"}, {"cmd/ertmp", "httpapi"}, {"serve", "httpapi"}, {"live", "."}, {"codecinfo", "flv"}, {".", "codecinfo"}, {"fmp4", "flv"}, {"fmp4", "codecinfo"}} {
		if v := violation(c[0], c[1]); v != "" {
			t.Errorf("%s importing %s fails: %s", c[0], c[1], v)
		}
	}
}

// Outputs and sources (record, relay) are built on live: live and the
// layers below import neither; the assembly does.
func TestOutputsLayering(t *testing.T) {
	for _, c := range [][2]string{{"live", "record"}, {"live", "relay"}, {".", "relay"}, {"message", "record"}, {"auth", "relay"}} {
		if violation(c[0], c[1]) == "" {
			t.Errorf("%s importing %s passes", c[0], c[1])
		}
	}
	for _, c := range [][2]string{{"relay", "live"}, {"record", "live"}, {"serve", "record"}, {"serve", "relay"}, {"cmd/ertmp", "relay"}} {
		if v := violation(c[0], c[1]); v != "" {
			t.Errorf("%s importing %s fails: %s", c[0], c[1], v)
		}
	}
}
