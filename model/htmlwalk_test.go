package model

import (
	"reflect"
	"testing"
)

func TestSafeHTML(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		safe     bool
	}{
		{"formatted text", `<p>Hello <b>world</b>, <em>again</em></p>`, true},
		{"a web link", `<p><a href="https://example.com/x?y=1" target="_blank" rel="noopener">link</a></p>`, true},
		{"relative, fragment, mail and phone links", `<ul><li><a href="/docs/a">a</a><li><a href="#top">b</a><li><a href="mailto:a@example.com">c</a><li><a href="tel:+15550100">d</a></ul>`, true},
		{"an inline raster image", `<p><img src="data:image/png;base64,iVBORw0KGgo=" alt="dot"></p>`, true},
		{"a protocol-relative image", `<div><img src="//cdn.example.com/x.png"></div>`, true},
		{"a lone link is an HTML injection, not editor content", `<A HREF="http://0x42.0x0000066.0x7.0x93/">XSS</A>`, false},
		{"a lone image", `<img SRC="http://www.example.com/x.php?somevar=1">`, false},
		{"a server-side include", "<pre><!--#exec cmd=\"id\" --></pre>", false},
		{"plain styles, data and aria attributes", `<div style="color:#333;font-size:14px" data-list="bullet" aria-label="x"><span class="mention" itemscope itemtype="http://schema.example/Mention">@Ann</span></div>`, true},
		{"a block-editor comment", `<!-- wp:paragraph --><p>Hi</p><!-- /wp:paragraph -->`, true},
		{"escaped markup is text", `<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`, true},
		{"a javascript: link", `<a href="javascript:alert(1)">x</a>`, false},
		{"a javascript: link split by a tab entity and cased", `<p><a href="JaVa&#x09;ScRiPt:alert(1)">x</a></p>`, false},
		{"a javascript: link with leading space and a newline", "<p><a href=\" java\nscript:alert(1)\">x</a></p>", false},
		{"a javascript: link by entity", `<p><a href="&#106;avascript:alert(1)">x</a></p>`, false},
		{"a vbscript: link", `<p><a href="vbscript:msgbox(1)">x</a></p>`, false},
		{"an HTML data: link", `<p><a href="data:text/html,<script>alert(1)</script>">x</a></p>`, false},
		{"an HTML data: image", `<p><img src="data:text/html;base64,PHNjcmlwdD4="></p>`, false},
		{"a scheme-like image source", `<p><img src=x:alert(1)></p>`, false},
		{"an event handler", `<p><img src=x onerror=alert(1)></p>`, false},
		{"an event handler on a safe element", `<p onclick="alert(1)">x</p>`, false},
		{"a javascript: link in a paragraph", `<p><a href="javascript:alert(1)">x</a></p>`, false},
		{"a script", `<p>x</p><script>alert(1)</script>`, false},
		{"an svg", `<svg onload=alert(1)>`, false},
		{"an iframe", `<iframe src="https://www.youtube.com/embed/x"></iframe>`, false},
		{"a form", `<form action="https://evil.example/"><p>x</p></form>`, false},
		{"noscript, a mutation-XSS context", `<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>`, false},
		{"details with ontoggle", `<details open ontoggle=alert(1)>`, false},
		{"a style that loads", `<p><div style="background:url(javascript:alert(1))">x</div></p>`, false},
		{"a style expression", `<p style="width:expression(alert(1))">x</p>`, false},
		{"a style with an escape", `<p style="background:u\rl(x)">x</p>`, false},
		{"a comment with markup", `<!--<img src=x onerror=alert(1)>--><p>x</p>`, false},
		{"a comment with a NUL", "<div id=\"108\"><!-- Ie 5-8 STan\x00darDS modE --></div>", false},
		{"a conditional comment", `<!--[if mso]><p>x</p><![endif]-->`, false},
		{"a doctype", `<!doctype html><p>x</p>`, false},
		{"an unknown attribute", `<p foo="bar">x</p>`, false},
		{"src on a link", `<p><a src="https://example.com/">x</a></p>`, false},
		{"no tag", `a < b and c > d`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, _, ok := safeHTML(tc.in); ok != tc.safe {
				t.Errorf("safeHTML(%q) = %v, want %v", tc.in, ok, tc.safe)
			}
		})
	}
}

func TestSafeHTMLFields(t *testing.T) {
	t.Parallel()
	req := Request{Method: "POST", URI: "/notes", Headers: [][2]string{{"content-type", "application/json"}},
		Body: []byte(`{"html":"<!-- wp:paragraph --><p>Hi 1&#39; UNION SELECT password FROM users-- &gt;&gt;&gt; <a href=\"https://e.example/p?q=x%27+or+1%3D1\" title=\"t\">there</a></p>","raw":"<p onclick=\"go()\">x</p>"}`)}
	type pf struct{ Part, Name, Raw string }
	var got []pf
	for _, f := range Fields(&req) {
		got = append(got, pf{f.Part, f.Name, f.Raw})
	}
	want := []pf{
		{"path", "", "/notes"},
		{"body", "html", "Hi 1' UNION SELECT password FROM users-- >>>  there"},
		{"body", "html.!--", "wp:paragraph"},
		{"body", "html.a@href", "/p"},
		{"body", "html.a@href?q", "x'+or+1=1"},
		{"body", "html.a@title", "t"},
		{"body", "raw", `<p onclick="go()">x</p>`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
