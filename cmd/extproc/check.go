package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/bulwark-waf/bulwark/config"
	"github.com/bulwark-waf/bulwark/inspect"
	"github.com/bulwark-waf/bulwark/model"
	"github.com/bulwark-waf/bulwark/model/evaluate"
	"github.com/bulwark-waf/bulwark/waf"
)

type headerFlags [][2]string

func (h *headerFlags) String() string { return fmt.Sprint(*h) }

func (h *headerFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("header %q: want 'Name: value'", v)
	}
	*h = append(*h, [2]string{strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(val)})
	return nil
}

type dataFlags []string

func (d *dataFlags) String() string { return strings.Join(*d, "&") }

func (d *dataFlags) Set(v string) error {
	if strings.HasPrefix(v, "@") {
		b, err := readPath(v[1:])
		if err != nil {
			return err
		}
		// curl -d @file drops carriage returns and newlines.
		v = strings.NewReplacer("\r", "", "\n", "").Replace(string(b))
	}
	*d = append(*d, v)
	return nil
}

func readPath(p string) ([]byte, error) {
	if p == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(p)
}

// checkResult is the --json output of `extproc check`.
type checkResult struct {
	Method    string       `json:"method"`
	URI       string       `json:"uri"`
	Threshold int          `json:"threshold"`
	Attack    bool         `json:"attack"`
	Scores    model.Scores `json:"scores"`
	Fields    []checkField `json:"fields"`
	CRS       *checkCRS    `json:"crs,omitempty"`
	// Decision and Explanation are what the server would do under --mode,
	// in the words of its audit line.
	Decision    string `json:"decision,omitempty"`
	Explanation string `json:"explanation,omitempty"`
	// Score is the server's score of the request, all evidence considered
	// (inspect.Score): the metadata's score.
	Score *inspect.Score `json:"score,omitempty"`
	Model model.Metadata `json:"-"`
}

type checkField struct {
	Part    string         `json:"part"`
	Name    string         `json:"field"`
	Skipped bool           `json:"prefiltered,omitempty"`
	Overall int            `json:"overall"`
	Class   map[string]int `json:"class"`
}

type checkCRS struct {
	Paranoia     int         `json:"paranoia_level"`
	Blocked      bool        `json:"blocked"`
	AnomalyScore int         `json:"anomaly_score"`
	Rules        []waf.Match `json:"rules"`
	Error        string      `json:"error,omitempty"`
}

// runCheck scores one request given curl-style or as a raw HTTP request,
// through the same core, config and rules as the server.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var headers headerFlags
	var data dataFlags
	method := fs.String("X", "", "request method (default GET, or POST with -d)")
	fs.Var(&headers, "H", "header 'Name: value' (repeatable)")
	fs.Var(&data, "d", "request body, or @file with newlines stripped, as curl does (repeatable, joined with &)")
	fs.Var(&binaryData{&data}, "data-binary", "request body, or @file kept byte for byte (repeatable, joined with &)")
	cookie := fs.String("b", "", "cookie string 'a=1; b=2'")
	raw := fs.String("raw", "", "read a raw HTTP/1.x or HTTP/2-style request from this file (- for stdin)")
	response := fs.String("response", "", "score a saved response instead: raw HTTP (status line, headers, body) or, with --content-type, the body alone (- for stdin)")
	ctype := fs.String("content-type", "", "with --response: the file is the body alone, of this content type")
	asJSON := fs.Bool("json", false, "print JSON")
	noCRS := fs.Bool("no-crs", false, "skip the CRS verdict")
	short := addShorthands(fs)
	settings := config.AddFlags(fs, nil)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: extproc check [-X METHOD] [-H 'Name: value']... [-d BODY] [-b COOKIES] [server flags] URL
       extproc check --raw FILE|-      (a raw HTTP request, e.g. from a proxy log or devtools)
       extproc check --response FILE|- [--content-type TYPE]   (a saved response: leakage model and CRS outbound)
The server's settings apply: --config FILE, BULWARK_* variables and every server flag.`)
	}
	// Like curl, the URL may come before, between or after the flags.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if *response != "" {
		return checkResponse(ctx, settings, short, *response, *ctype, *asJSON, stdout)
	}
	var req *model.Request
	var err error
	switch {
	case *raw != "":
		if len(positional) > 0 {
			return errors.New("check: give either --raw or a URL, not both")
		}
		req, err = parseRaw(*raw)
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
	case len(positional) == 1:
		req, err = curlRequest(positional[0], *method, headers, data, *cookie)
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
	default:
		fs.Usage()
		return errors.New("check: need exactly one URL or --raw")
	}
	rt, err := toolRuntime(settings, func(c *config.Config) {
		c.ML.Enabled = true
		short.apply(c)
	})
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	m := rt.Model
	scores, fields := m.ScoreFields(ctx, req)
	res := checkResult{Method: req.Method, URI: req.URI, Threshold: rt.Policies.Default.MLThreshold, Scores: scores, Model: m.Info()}
	res.Attack = scores.Overall <= res.Threshold
	for _, f := range fields {
		cf := checkField{Part: f.Field.Part, Name: f.Field.Name, Skipped: f.Skipped, Overall: f.Overall, Class: map[string]int{}}
		for i, c := range model.Classes {
			cf.Class[c] = f.Class[i]
		}
		res.Fields = append(res.Fields, cf)
	}
	if !*noCRS {
		res.CRS = &checkCRS{Paranoia: rt.Config.WAF.ParanoiaLevel}
		rep, err := inspectAsEnvoy(ctx, rt.Core, req)
		if err != nil {
			res.CRS.Error = err.Error()
		} else {
			v, blocked := crsVerdict(&rep)
			res.CRS.AnomalyScore = v.InboundScore
			res.CRS.Blocked = blocked
			for _, r := range v.Logged() {
				if !inspect.IsCRSBlockingRule(r.ID) {
					res.CRS.Rules = append(res.CRS.Rules, r)
				}
			}
			res.Decision, res.Explanation, res.Score = string(rep.Request.Action), rep.Explanation(), rep.Score
		}
	}
	if *asJSON {
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		return e.Encode(res)
	}
	printCheck(stdout, &res)
	return nil
}

// binaryData is curl's --data-binary: like -d, but @file keeps its bytes.
type binaryData struct{ d *dataFlags }

func (b *binaryData) String() string { return b.d.String() }
func (b *binaryData) Set(v string) error {
	if strings.HasPrefix(v, "@") {
		raw, err := readPath(v[1:])
		if err != nil {
			return err
		}
		v = string(raw)
	}
	*b.d = append(*b.d, v)
	return nil
}

func curlRequest(rawURL, method string, headers headerFlags, data dataFlags, cookie string) (*model.Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Opaque != "" || (u.Scheme == "" && !strings.HasPrefix(rawURL, "/")) {
		// curl accepts "host/path" and "host:port/path" (which parses as
		// scheme "host" and opaque "port/path"); so do we. When
		// that fails too, the error about what was typed is the one that
		// helps.
		first := err
		if u, err = url.Parse("http://" + rawURL); err != nil {
			if first != nil {
				err = first
			}
			return nil, fmt.Errorf("url %q: %w", rawURL, err)
		}
	}
	uri := u.EscapedPath()
	if uri == "" {
		uri = "/"
	}
	if u.RawQuery != "" {
		uri += "?" + u.RawQuery
	}
	r := &model.Request{Method: method, URI: uri}
	if u.Host != "" {
		r.Headers = append(r.Headers, [2]string{"host", u.Host})
	}
	hasCT := false
	for _, h := range headers {
		if h[0] == "content-type" {
			hasCT = true
		}
	}
	r.Headers = append(r.Headers, headers...)
	if cookie != "" {
		r.Headers = append(r.Headers, [2]string{"cookie", cookie})
	}
	if len(data) > 0 {
		r.Body = []byte(strings.Join(data, "&"))
		if !hasCT {
			r.Headers = append(r.Headers, [2]string{"content-type", "application/x-www-form-urlencoded"})
		}
		if r.Method == "" {
			r.Method = "POST"
		}
	}
	if r.Method == "" {
		r.Method = "GET"
	}
	return r, nil
}

// inspectAsEnvoy sends req through the core with its headers as Envoy
// presents them, from a documentation address when it names none.
func inspectAsEnvoy(ctx context.Context, core *inspect.Core, req *model.Request) (inspect.Report, error) {
	wr := *req
	wr.Headers = evaluate.WireHeaders(req)
	if wr.ClientIP == "" {
		wr.ClientIP = "192.0.2.10"
	}
	return core.Inspect(ctx, &wr)
}

// crsVerdict is what CRS alone concluded on the request: the request
// phases' verdict, or the final one when a rule interrupted before the
// decision; and whether that verdict blocks at the policy's threshold.
func crsVerdict(rep *inspect.Report) (waf.Verdict, bool) {
	v := rep.RequestCRS
	if rep.Request.Interruption != nil && rep.Decision == nil {
		v = rep.Final
	}
	return v, v.Interrupted || v.InboundScore >= rep.Plan.CRSThreshold
}

func parseRaw(path string) (*model.Request, error) {
	b, err := readPath(path)
	if err != nil {
		return nil, err
	}
	// Files written by hand often use bare \n line ends.
	if !bytes.Contains(b, []byte("\r\n")) {
		b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	}
	b = fromDevtools(b)
	// The request target goes to the WAF as written: Envoy passes a path
	// such as "/icons/.%%32%65/" (CVE-2021-42013) that Go's URL parser
	// refuses, so the parser sees "/" and the target is put back after.
	target := ""
	if line, rest, ok := bytes.Cut(b, []byte("\r\n")); ok {
		if f := bytes.Fields(line); len(f) == 3 && bytes.HasPrefix(f[1], []byte("/")) {
			target = string(f[1])
			b = append([]byte(string(f[0])+" / "+string(f[2])+"\r\n"), rest...)
		}
	}
	br := bufio.NewReader(bytes.NewReader(b))
	hr, err := http.ReadRequest(br)
	if err != nil {
		return nil, fmt.Errorf("raw request: %w", err)
	}
	if target != "" {
		hr.RequestURI = target
	}
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		return nil, fmt.Errorf("raw request body: %w", err)
	}
	if hr.ContentLength <= 0 && len(body) == 0 {
		// No Content-Length: take whatever follows the headers.
		body, _ = io.ReadAll(br)
		body = bytes.TrimSuffix(body, []byte("\r\n"))
	}
	r := &model.Request{Method: hr.Method, URI: hr.RequestURI, Body: body}
	if hr.Host != "" {
		r.Headers = append(r.Headers, [2]string{"host", hr.Host})
	}
	for k, vs := range hr.Header {
		for _, v := range vs {
			r.Headers = append(r.Headers, [2]string{strings.ToLower(k), v})
		}
	}
	return r, nil
}

func printCheck(w io.Writer, res *checkResult) {
	verdict := "clean"
	if res.Attack {
		verdict = "ATTACK"
	}
	fmt.Fprintf(w, "%s %s\n", res.Method, res.URI)
	fmt.Fprintf(w, "(model %s, trained %s)\n\n", res.Model.SchemaVersion, res.Model.Created)
	fmt.Fprintf(w, "model score: %d  (%s; 1 = certainly an attack, 99 = clean; attack at <= %d)\n", res.Scores.Overall, verdict, res.Threshold)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range model.Classes {
		fmt.Fprintf(tw, "  %s\t%d\n", c, res.Scores.Class[c])
	}
	tw.Flush()
	if len(res.Scores.Locations) > 0 {
		fmt.Fprintln(w, "\nlocations:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, l := range res.Scores.Locations {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\n", l.Class, l.Score, l.Part, quoteField(l.Field))
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\nfields:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range res.Fields {
		note := ""
		if f.Skipped {
			note = "prefiltered"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", f.Part, quoteField(f.Name), f.Overall, note)
	}
	tw.Flush()
	if c := res.CRS; c != nil {
		fmt.Fprintln(w)
		switch {
		case c.Error != "":
			fmt.Fprintf(w, "CRS PL%d: error: %s\n", c.Paranoia, c.Error)
		case c.Blocked:
			fmt.Fprintf(w, "CRS PL%d: BLOCKED, anomaly score %d\n", c.Paranoia, c.AnomalyScore)
		default:
			fmt.Fprintf(w, "CRS PL%d: allowed, anomaly score %d\n", c.Paranoia, c.AnomalyScore)
		}
		for _, r := range c.Rules {
			fmt.Fprintf(w, "  %d %s\n", r.ID, r.Message)
		}
	}
	if res.Explanation != "" {
		fmt.Fprintf(w, "\ndecision: %s\n", res.Explanation)
	}
	if sc := res.Score; sc != nil && sc.Source == inspect.ScoreCRS {
		fmt.Fprintf(w, "score: %d (CRS's block; the model's is %d)\n", sc.Overall, res.Scores.Overall)
	}
}

func quoteField(s string) string {
	if s == "" {
		return "-"
	}
	return fmt.Sprintf("%q", s)
}

// fromDevtools rewrites a request as browser devtools show it into HTTP/1.1:
// an HTTP/2 or HTTP/3 request line, and pseudo-header lines (:authority
// becomes Host, :method, :path and :scheme are dropped, the request line
// already says them).
func fromDevtools(b []byte) []byte {
	head, body, found := bytes.Cut(b, []byte("\r\n\r\n"))
	lines := bytes.Split(head, []byte("\r\n"))
	if len(lines) == 0 {
		return b
	}
	for _, v := range []string{" HTTP/2", " HTTP/2.0", " HTTP/3", " HTTP/3.0"} {
		if bytes.HasSuffix(lines[0], []byte(v)) {
			lines[0] = append(bytes.TrimSuffix(lines[0], []byte(v)), " HTTP/1.1"...)
		}
	}
	out := lines[:1]
	hasHost := false
	var authority []byte
	for _, l := range lines[1:] {
		switch {
		case bytes.HasPrefix(bytes.ToLower(l), []byte("host:")):
			hasHost = true
			out = append(out, l)
		case bytes.HasPrefix(l, []byte(":authority:")):
			authority = bytes.TrimSpace(l[len(":authority:"):])
		case bytes.HasPrefix(l, []byte(":")):
		default:
			out = append(out, l)
		}
	}
	if !hasHost && authority != nil {
		out = append(out, append([]byte("host: "), authority...))
	}
	res := bytes.Join(out, []byte("\r\n"))
	if found {
		res = append(append(res, "\r\n\r\n"...), body...)
	}
	return res
}
