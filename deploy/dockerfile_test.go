package deploy_test

import (
	"bufio"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// root is the repository root, seen from this package.
const root = ".."

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // where it starts
	cmd  string // FROM, RUN, ... in upper case
	args string
}

func readDockerfile(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur *instruction
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if cur == nil && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		cont := strings.HasSuffix(line, `\`)
		line = strings.TrimSuffix(line, `\`)
		if cur == nil {
			cmd, args, _ := strings.Cut(line, " ")
			cur = &instruction{line: n, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		} else if !strings.HasPrefix(line, "#") {
			cur.args += " " + line
		}
		if !cont {
			out = append(out, *cur)
			cur = nil
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// stages splits the instructions at each FROM.
func stages(ins []instruction) [][]instruction {
	var out [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			out = append(out, nil)
		}
		if len(out) > 0 {
			out[len(out)-1] = append(out[len(out)-1], in)
		}
	}
	return out
}

// splitWords splits a shell command line into words, with single and double
// quotes (enough for the Dockerfile's simple go build lines).
func splitWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case strings.ContainsRune("$`\\;&|<>(){}*?", r):
			return nil, fmt.Errorf("%q: keep go build lines free of %q (this test runs them without a shell)", s, r)
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q: unterminated quote", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// goBuild is one RUN line of the Dockerfile that builds a binary.
type goBuild struct {
	line   int
	args   []string // after "go build"
	output string   // the -o path
}

func goBuilds(t *testing.T, ins []instruction) []goBuild {
	t.Helper()
	var builds []goBuild
	for _, in := range ins {
		if in.cmd != "RUN" || !strings.Contains(in.args, "go build") {
			continue
		}
		words, err := splitWords(in.args)
		if err != nil {
			t.Fatalf("Dockerfile:%d: %v", in.line, err)
		}
		if len(words) < 3 || words[0] != "CGO_ENABLED=0" || words[1] != "go" || words[2] != "build" {
			t.Fatalf("Dockerfile:%d: want RUN CGO_ENABLED=0 go build ..., got RUN %s", in.line, in.args)
		}
		b := goBuild{line: in.line, args: words[3:]}
		for i, w := range b.args {
			if w == "-o" && i+1 < len(b.args) {
				b.output = b.args[i+1]
			}
		}
		if b.output == "" {
			t.Fatalf("Dockerfile:%d: no -o", in.line)
		}
		if !slices.Contains(b.args, "-trimpath") {
			t.Errorf("Dockerfile:%d: go build without -trimpath", in.line)
		}
		if !slices.Contains(b.args, "-ldflags=-s -w") {
			t.Errorf(`Dockerfile:%d: go build without -ldflags="-s -w"`, in.line)
		}
		if pkg := b.args[len(b.args)-1]; !strings.HasPrefix(pkg, "./") {
			t.Errorf("Dockerfile:%d: the last argument of go build should be the package, ./<dir>; got %s", in.line, pkg)
		}
		builds = append(builds, b)
	}
	if len(builds) == 0 {
		t.Fatal("Dockerfile: no RUN CGO_ENABLED=0 go build line")
	}
	return builds
}

// versionTag is a tag that names a version: 16.10, 1.29.1, v2.42.1-...
var versionTag = regexp.MustCompile(`^v?[0-9]+\.[0-9]+`)

// pinned says why image is not pinned to a version ("" when it is): a digest,
// or a tag that names at least major.minor (not latest, not a bare major).
func pinned(image string) string {
	if _, digest, ok := strings.Cut(image, "@"); ok {
		if strings.HasPrefix(digest, "sha256:") {
			return ""
		}
		return "a digest that is not sha256:"
	}
	name := image
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	_, tag, ok := strings.Cut(name, ":")
	switch {
	case !ok:
		return "no tag (latest)"
	case tag == "latest":
		return "the tag latest"
	case !versionTag.MatchString(tag):
		return fmt.Sprintf("tag %q names no major.minor version", tag)
	}
	return ""
}

// TestDockerfileImagesPinned checks that every base image is pinned.
func TestDockerfileImagesPinned(t *testing.T) {
	var stageNames []string
	for _, in := range readDockerfile(t) {
		if in.cmd != "FROM" {
			continue
		}
		fields := strings.Fields(in.args)
		image := fields[0]
		if image != "scratch" && !slices.Contains(stageNames, image) {
			if why := pinned(image); why != "" {
				t.Errorf("Dockerfile:%d: FROM %s: %s", in.line, image, why)
			}
		}
		if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
			stageNames = append(stageNames, fields[2])
		}
	}
}

// TestDockerfileGoVersion checks that the builder runs go.mod's Go, and
// refuses another (GOTOOLCHAIN=local) instead of downloading one.
func TestDockerfileGoVersion(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go ([0-9.]+)\s*$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod: no go line")
	}
	goVersion := string(m[1])
	builders := 0
	for _, st := range stages(readDockerfile(t)) {
		image := strings.Fields(st[0].args)[0]
		v, ok := strings.CutPrefix(image, "golang:")
		if !ok {
			continue
		}
		builders++
		if got := regexp.MustCompile(`^[0-9.]+`).FindString(v); got != goVersion {
			t.Errorf("Dockerfile:%d: FROM %s builds with Go %s; go.mod says go %s", st[0].line, image, got, goVersion)
		}
		local := false
		for _, in := range st {
			local = local || in.cmd == "ENV" && strings.Contains(in.args, "GOTOOLCHAIN=local")
		}
		if !local {
			t.Errorf("Dockerfile:%d: the golang stage does not set GOTOOLCHAIN=local, so a go.mod asking for a newer Go would download it", st[0].line)
		}
	}
	if builders == 0 {
		t.Fatal("Dockerfile: no FROM golang:<version> stage")
	}
}

// TestDockerfileFinalStage checks that the image runs as a non-root user, its
// entrypoint is one of the binaries built, and it holds every binary built.
func TestDockerfileFinalStage(t *testing.T) {
	ins := readDockerfile(t)
	st := stages(ins)
	final := st[len(st)-1]
	var user, entrypoint string
	var copies []string
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		case "COPY":
			copies = append(copies, in.args)
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || uid == "root" {
		t.Errorf("Dockerfile: the final stage runs as %q; want a non-root USER", user)
	}
	var outputs []string
	for _, b := range goBuilds(t, ins) {
		outputs = append(outputs, path.Base(b.output))
		found := false
		for _, c := range copies {
			found = found || strings.Contains(c, b.output)
		}
		if !found {
			t.Errorf("Dockerfile: the final stage does not copy %s", b.output)
		}
	}
	m := regexp.MustCompile(`^\["([^"]+)"`).FindStringSubmatch(entrypoint)
	if m == nil || !slices.Contains(outputs, path.Base(m[1])) {
		t.Errorf("Dockerfile: ENTRYPOINT %s: want the exec form naming one of %v", entrypoint, outputs)
	}
}

// TestDockerfileBuildsStaticBinaries runs each go build line of the Dockerfile
// as written (into a temporary folder instead of /out) and checks that the
// binary is static and stripped, and answers --help.
func TestDockerfileBuildsStaticBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries (a minute or two the first time)")
	}
	dir := t.TempDir()
	for _, b := range goBuilds(t, readDockerfile(t)) {
		out := filepath.Join(dir, path.Base(b.output))
		args := slices.Clone(b.args)
		args[slices.Index(args, "-o")+1] = out
		t.Run(path.Base(b.output), func(t *testing.T) {
			cmd := exec.Command("go", append([]string{"build"}, args...)...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("Dockerfile:%d: go build %s: %v\n%s", b.line, strings.Join(args, " "), err, msg)
			}
			checkStatic(t, out)
			help := exec.Command(out, "--help")
			help.Dir = t.TempDir() // no repository around it, as in the image
			help.Env = []string{"HOME=" + help.Dir}
			msg, err := help.CombinedOutput()
			if err != nil || !strings.Contains(string(msg), "Usage:") {
				t.Errorf("%s --help: %v\n%s", path.Base(out), err, msg)
			}
		})
	}
}

// checkStatic fails unless the ELF file at bin asks for no dynamic loader,
// has no dynamic section and holds neither symbols nor DWARF (-s -w).
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s: program header %v: not a static binary", bin, p.Type)
		}
	}
	for _, s := range f.Sections {
		if s.Name == ".interp" || s.Name == ".dynamic" || s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("%s: section %s: want a static binary built with -s -w", bin, s.Name)
		}
	}
}

// TestDockerignore checks that the build context leaves out the local stack's
// data (it holds database passwords), its tools and the git folder.
func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(lines[i]), "/"), "/")
	}
	for _, want := range []string{".data", ".tools", ".git"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore does not leave out %s", want)
		}
	}
}

// TestDockerfileCopiesTheReplacedModulesBeforeDownload: go.mod replaces
// the saga engine's module with a folder of the repository, so `go mod
// download`, which the Dockerfile runs before it copies the sources, needs
// that folder's go.mod and go.sum copied first.
func TestDockerfileCopiesTheReplacedModulesBeforeDownload(t *testing.T) {
	out, err := exec.Command("go", "mod", "edit", "-json", filepath.Join(root, "go.mod")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var mod struct {
		Replace []struct{ New struct{ Path string } }
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, r := range mod.Replace {
		if strings.HasPrefix(r.New.Path, "./") {
			dirs = append(dirs, path.Clean(r.New.Path))
		}
	}
	if len(dirs) == 0 {
		t.Fatal("go.mod replaces no module with a folder; this test expects the saga engine's")
	}
	copied := map[string]bool{}
	for _, in := range readDockerfile(t) {
		if in.cmd == "RUN" && strings.Contains(in.args, "go mod download") {
			for _, dir := range dirs {
				if !copied[dir+"/go.mod"] || !copied[dir+"/go.sum"] {
					t.Errorf("line %d: go mod download before %s/go.mod and go.sum are copied", in.line, dir)
				}
			}
			return
		}
		if in.cmd == "COPY" {
			for _, w := range strings.Fields(in.args) {
				copied[path.Clean(w)] = true
			}
		}
	}
	t.Error("the Dockerfile runs no go mod download")
}
