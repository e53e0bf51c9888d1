package model

import (
	"cmp"
	"math"
	"strings"

	"github.com/corazawaf/libinjection-go"
)

// SchemaVersion names the feature layout below. Bump it whenever a feature
// is added, removed, reordered or computed differently: models trained on
// another layout are refused by Load.
const SchemaVersion = "bulwark-features-v6"

// Feature indices. The order is the column order of the training matrix.
const (
	fLenRaw = iota
	fLenNorm
	fDecodeDepth
	fPctRatio
	fEntities
	fJSEscapes
	fNulBytes
	fNonASCIIRatio
	fUpperRatio
	fEntropy
	fAlphaRatio
	fDigitRatio
	fSpaceRatio
	fPunctRatio
	fMaxPunctRun
	fWords
	fSingleQuote
	fDoubleQuote
	fBacktick
	fSemicolon
	fLParen
	fRParen
	fLT
	fGT
	fEq
	fSlash
	fBackslash
	fDot
	fDash
	fHash
	fStar
	fPipe
	fAmp
	fDollar
	fLBrace
	fRBrace
	fLBracket
	fComma
	fColon
	fBang
	fPercent
	fPlus
	fTilde
	fAt
	fNewline
	fDotDot
	fDotDotSlash
	fLibinjSQLi
	fLibinjXSS
	fKwSQL
	fKwSQLLogic
	fKwSQLFunc
	fKwXSS
	fKwShell
	fKwCode
	fKwFile
	fKwDistinct
	fFuncCall
	fKwFuncCall
	fQuoteKw
	fSQLComment
	fUnionSelect
	fTautology
	fTagOpen
	fEventHandler
	fJSURI
	fSepCmd
	fCmdSubst
	fTemplate
	fJNDI
	fSensitivePath
	fWrapper
	fURLScheme
	fFirstClass
	fLastClass
	fPartPath
	fPartQuery
	fPartBody
	fPartHeader
	fPartCookie
	fIsName
	fSQLStmt
	fBase64
	fEvidence
	NumFeatures
)

// FeatureNames lists the column names of the feature vector, in order.
var FeatureNames = [NumFeatures]string{
	"len_raw", "len_norm", "decode_depth", "pct_ratio", "entities", "js_escapes",
	"nul_bytes", "non_ascii_ratio", "upper_ratio", "entropy", "alpha_ratio",
	"digit_ratio", "space_ratio", "punct_ratio", "max_punct_run", "words",
	"c_squote", "c_dquote", "c_backtick", "c_semicolon", "c_lparen", "c_rparen",
	"c_lt", "c_gt", "c_eq", "c_slash", "c_backslash", "c_dot", "c_dash", "c_hash",
	"c_star", "c_pipe", "c_amp", "c_dollar", "c_lbrace", "c_rbrace", "c_lbracket",
	"c_comma", "c_colon", "c_bang", "c_percent", "c_plus", "c_tilde", "c_at",
	"c_newline", "dotdot", "dotdot_slash", "libinj_sqli", "libinj_xss",
	"kw_sql", "kw_sql_logic", "kw_sql_func", "kw_xss", "kw_shell", "kw_code",
	"kw_file", "kw_distinct", "func_call", "kw_func_call", "quote_kw",
	"sql_comment", "union_select", "tautology", "tag_open", "event_handler",
	"js_uri", "sep_cmd", "cmd_subst", "template", "jndi", "sensitive_path",
	"wrapper", "url_scheme", "first_class", "last_class", "part_path",
	"part_query", "part_body", "part_header", "part_cookie", "is_name",
	"sql_stmt", "base64", "evidence",
}

// keyword groups, as bits so one word can belong to several.
const (
	gSQL uint8 = 1 << iota
	gSQLLogic
	gSQLFunc
	gXSS
	gShell
	gCode
	gFile
)

var keywords = map[string]uint8{}

func addKw(g uint8, words string) {
	for _, w := range strings.Fields(words) {
		keywords[w] |= g
	}
}

func init() {
	addKw(gSQL, `select union insert update delete drop from where having group order by
		limit into values table exec execute declare cast convert case when then else end
		like between alter create truncate procedure rlike regexp offset join all distinct
		dual sysdate`)
	addKw(gSQLLogic, `and or not xor null is true false`)
	addKw(gSQLFunc, `sleep benchmark waitfor delay pg_sleep concat concat_ws char chr ascii
		substring substr mid ord hex unhex load_file outfile dumpfile version database
		current_user session_user system_user information_schema sysobjects syscolumns
		mysql extractvalue updatexml count length ifnull coalesce rand md group_concat
		xp_cmdshell utl_inaddr dbms_pipe sqlite_master pg_catalog schema_name table_name
		column_name make_set elt nvl iif randomblob`)
	addKw(gXSS, `script alert prompt confirm javascript vbscript document cookie window
		eval iframe svg img src href location innerhtml fromcharcode atob settimeout
		setinterval expression onerror onload onmouseover onfocus onclick ontoggle
		onanimationstart onbegin onpointerenter srcdoc formaction xlink object embed
		marquee details autofocus constructor prototype top parent self frames`)
	addKw(gShell, `cat ls id whoami uname wget curl nc ncat netcat bash sh zsh ksh ping
		nslookup dig echo rm chmod chown python python3 perl ruby php powershell cmd exe
		kill ps ifconfig ipconfig sudo nohup xargs telnet ssh awk sed head tail tac
		more less dir net sleep type printf env set export bin usr tmp dev null
		sbin systeminfo certutil bitsadmin mkfifo socat busybox netstat nmap tasklist hostname
		uname getent crontab base64 xterm ncat telnet pwd netsh wmic mshta rundll32 regsvr32
		cscript wscript schtasks tracert traceroute lsof killall pkill useradd uptime tftp nproc`)
	addKw(gCode, `system exec passthru shell_exec popen proc_open eval assert include
		require require_once include_once __import__ os subprocess runtime getruntime
		processbuilder forname getclass jndi ldap ldaps rmi dns iiop corba nds nis
		class __class__ __globals__ __builtins__ __subclasses__ __init__ __mro__ config
		lipsum cycler joiner namespace getattr popen read request self base64_decode
		call_user_func create_function preg_replace phpinfo file_get_contents
		file_put_contents fopen readfile t print open invoke newinstance`)
	addKw(gFile, `etc passwd shadow hosts win ini boot windows system32 proc environ
		cmdline htaccess htpasswd web inf xml inetpub var log logs www htdocs
		issue group profile bashrc history ssh id_rsa conf config php jsp asp aspx
		wp filename xampp apache2 nginx httpd`)
}

// FieldFeatures computes the feature vector of one field into dst, which
// must have NumFeatures elements.
func FieldFeatures(f *Field, dst []float64) {
	for i := range dst[:NumFeatures] {
		dst[i] = 0
	}
	s, st := normalize(f)
	n := float64(len(s))
	dst[fLenRaw] = float64(len(f.Raw))
	dst[fLenNorm] = n
	dst[fDecodeDepth] = float64(st.depth)
	if len(f.Raw) > 0 {
		dst[fPctRatio] = float64(st.pctEscapes) / float64(len(f.Raw))
		dst[fUpperRatio] = float64(st.upper) / float64(len(f.Raw))
	}
	dst[fEntities] = float64(st.entities)
	dst[fJSEscapes] = float64(st.jsEscapes)
	dst[fNulBytes] = float64(st.nulBytes)
	switch f.Part {
	case PartPath:
		dst[fPartPath] = 1
	case PartQuery:
		dst[fPartQuery] = 1
	case PartBody:
		dst[fPartBody] = 1
	case PartHeader:
		dst[fPartHeader] = 1
	case PartCookie:
		dst[fPartCookie] = 1
	}
	if f.nameOnly {
		dst[fIsName] = 1
	}
	if len(s) == 0 {
		return
	}
	dst[fNonASCIIRatio] = float64(st.nonASCII) / n

	var hist [256]uint16
	var alpha, digit, space, punct, run, maxRun int
	for i := 0; i < len(s); i++ {
		c := s[i]
		hist[c]++
		switch {
		case c >= 'a' && c <= 'z':
			alpha++
			run = 0
		case c >= '0' && c <= '9':
			digit++
			run = 0
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			space++
			run = 0
		case c >= 0x80:
			run = 0
		default:
			punct++
			run++
			if run > maxRun {
				maxRun = run
			}
		}
	}
	// H = log2(n) - Σ c·log2(c) / n, with c·log2(c) from a table: the
	// logarithms were a quarter of the cost of a short field.
	var sum float64
	for _, h := range hist {
		if h != 0 {
			sum += clog2c(int(h))
		}
	}
	dst[fEntropy] = max(0, math.Log2(n)-sum/n)
	dst[fAlphaRatio] = float64(alpha) / n
	dst[fDigitRatio] = float64(digit) / n
	dst[fSpaceRatio] = float64(space) / n
	dst[fPunctRatio] = float64(punct) / n
	dst[fMaxPunctRun] = float64(maxRun)
	for i, c := range []byte("'\"`;()<>=/\\.-#*|&${}[,:!%+~@\n") {
		dst[fSingleQuote+i] = float64(hist[c])
	}
	dst[fDotDot] = float64(strings.Count(s, ".."))
	dst[fDotDotSlash] = float64(strings.Count(s, "../") + strings.Count(s, "..\\"))
	dst[fFirstClass] = charClass(s[0])
	dst[fLastClass] = charClass(s[len(s)-1])

	lexical(s, dst)
	patterns(s, &hist, dst)
	if (s[0] == '/' || s[0] == '\\') && systemPath(s) {
		dst[fSensitivePath]++
	}
	// libinjection is the costliest feature (several µs on a sentence), so
	// it only runs where its verdict could be positive: a quote or comment
	// next to SQL operators or words, or SQL words next to operators.
	// Prose like "I'm not home" never gets there.
	sqlWords := dst[fKwSQL] + dst[fKwSQLFunc]
	sqlOps := hist['='] > 0 || hist['('] > 0 || hist[')'] > 0 || hist[';'] > 0 || hist['#'] > 0 || hist['-'] > 0 ||
		hist['/'] > 0 || hist['|'] > 0 || hist['&'] > 0 || hist['<'] > 0 || hist['>'] > 0 || hist['*'] > 0
	quoted := hist['\''] > 0 || hist['"'] > 0 || hist['`'] > 0 || dst[fSQLComment] > 0
	if (quoted && (sqlOps || sqlWords > 0 || dst[fKwSQLLogic] >= 2)) ||
		(sqlWords+dst[fKwSQLLogic] >= 2 && (hist['('] > 0 || hist['='] > 0 || digit > 0)) {
		if ok, _ := libinjection.IsSQLi(s); ok {
			dst[fLibinjSQLi] = 1
		}
	}
	if hist['<'] > 0 || hist['>'] > 0 || hist['`'] > 0 || dst[fJSURI] > 0 || dst[fEventHandler] > 0 {
		if libinjection.IsXSS(s) {
			dst[fLibinjXSS] = 1
		}
	}
	dst[fBase64] = float64(st.base64)
	if hist['.'] > 1 {
		// "..2f..2fetc2fpasswd": escapes with their "%" lost, which
		// lenient decoders and the lists that probe them both produce.
		dst[fDotDotSlash] += float64(strings.Count(s, "..2f") + strings.Count(s, "..5c"))
	}
	if sqlWords > 0 || hist['@'] > 1 {
		dst[fSQLStmt] = sqlStatements(s)
	}
	u := shellUnquote(s)
	if r := shellResolve(cmp.Or(u, s)); r != "" {
		u = r
	}
	if u != "" {
		// "a)|i''d", "&w\hoami", "&&{,}sleep{,}5", "c'a't", "$a$b",
		// "/???/??t": the shell joins the word back; so does this copy,
		// for the command and sensitive-path shapes only.
		var tmp [NumFeatures]float64
		lexical(u, tmp[:])
		dst[fSepCmd] = max(dst[fSepCmd], tmp[fSepCmd])
		if dst[fSensitivePath] == 0 {
			var on [numPatternGroups]bool
			var cnt [numPatternGroups]float64
			on[pgSensitive] = true
			countPatterns(u, &on, &cnt)
			dst[fSensitivePath] = cnt[pgSensitive]
		}
	}
	if leadingCommand(s) || u != "" && leadingCommand(u) {
		dst[fSepCmd]++
	}
	dst[fEvidence] = evidence(dst)
	if hist['.'] > 1 && dst[fDotDotSlash] == 0 && dotDotSep(s) {
		dst[fEvidence]++
	}
}

// dotDotSep reports a ".." run followed by a separator of some kind (any
// byte but a letter or digit, or the end): "..;/", "..%u2216", "/..". A
// ".." between letters or digits ("02FH..Baeuv8...1.0") is not a step up.
func dotDotSep(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '.' || s[i+1] != '.' {
			continue
		}
		j := i
		for j < len(s) && s[j] == '.' {
			j++
		}
		if j == len(s) || !(s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
			return true
		}
		i = j
	}
	return false
}

// evidenceFeatures are the shapes an attack of some modelled class is made
// of. A bare ".." between letters is not one ("02FH..Baeuv8...1.0" is a
// real tracking cookie); "../", "..\\" and ".." before any other
// separator are (see dotDotSep). A field with none of them is at most unusual, and unusual is not an
// attack: Model caps its score at the model's novelty floor, so a value
// unlike anything in training cannot reach a blocking score on novelty
// alone.
var evidenceFeatures = []int{fLibinjSQLi, fLibinjXSS, fQuoteKw, fSepCmd, fCmdSubst, fUnionSelect,
	fTautology, fSQLStmt, fTagOpen, fEventHandler, fJSURI, fTemplate, fJNDI, fSensitivePath, fWrapper,
	fDotDotSlash, fSQLComment, fKwFuncCall, fFuncCall, fNulBytes}

func evidence(dst []float64) float64 {
	var n float64
	for _, i := range evidenceFeatures {
		if dst[i] > 0 {
			n++
		}
	}
	return n
}

var clog2cTable = func() []float64 {
	t := make([]float64, maxFieldBytes*4+1)
	for c := 1; c < len(t); c++ {
		t[c] = float64(c) * math.Log2(float64(c))
	}
	return t
}()

func clog2c(c int) float64 {
	if c < len(clog2cTable) {
		return clog2cTable[c]
	}
	return float64(c) * math.Log2(float64(c))
}

func charClass(c byte) float64 {
	switch {
	case c >= 'a' && c <= 'z':
		return 1
	case c >= '0' && c <= '9':
		return 2
	case c == '\'' || c == '"' || c == '`':
		return 3
	case c == ' ' || c == '\t' || c == '\n':
		return 4
	case c >= 0x80:
		return 5
	}
	return 6
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c == '_'
}

// proseWords are commands that are also ordinary English words.
var proseWords = map[string]bool{"more": true, "less": true, "head": true, "tail": true, "cat": true, "sort": true,
	"find": true, "date": true, "type": true, "set": true, "top": true, "who": true, "last": true, "file": true,
	"time": true, "watch": true, "free": true, "make": true, "touch": true, "yes": true, "kill": true, "echo": true}

// proseAmpersand reports a command word w at i that is English written
// after a lone ampersand with spaces on both sides, with no argument but
// another word or the end of a phrase after it: "Flowers & More", "Tom &
// cat", "Shoes & more please". A shell runs those too, but as attacks they do nothing: `&
// cat /etc/passwd`, "a && more" and "x&more" still count. k is where the
// word's next token starts.
func proseAmpersand(s string, i int, w string, k int) bool {
	if !proseWords[w] {
		return false
	}
	j := i - 1
	if j < 0 || s[j] != ' ' {
		return false
	}
	for j >= 0 && s[j] == ' ' {
		j--
	}
	if j < 1 || s[j] != '&' || s[j-1] != ' ' {
		return false
	}
	if k >= len(s) {
		return true
	}
	if strings.IndexByte("\"'.,!?)", s[k]) >= 0 {
		return true // the end of a phrase: `it was "Flowers & More".`
	}
	return isWordByte(s[k]) && (k+1 >= len(s) || s[k+1] != ':')
}

// lexical walks the words of s once, counting keyword groups and the few
// word-in-context shapes that separate payloads from prose: a keyword
// right after a quote, a command right after a shell separator, a name
// right before "(" or "=".
func lexical(s string, dst []float64) {
	var distinct, words int
	prevSig := byte(' ') // last non-space, non-word byte before the word
	sawUnion := false
	for i := 0; i < len(s); {
		c := s[i]
		if !isWordByte(c) {
			switch {
			case c == '/' && isShellSep(prevSig):
				// ";/usr/bin/id": the path of a command keeps the
				// separator in front of it (see binDirs below).
			case (c > ' ' || c == '\n') && !(c >= '0' && c <= '9'):
				// Every control byte but the newline is a gap to a
				// shell, as to SQL: "|\vid" runs id.
				prevSig = c
			case c >= '0' && c <= '9':
				prevSig = '0'
			}
			i++
			continue
		}
		if c == 'n' && i > 0 && s[i-1] == '\\' {
			// A written-out "\n" is the newline that a shell, a PHP
			// eval or a log line would break on: "\nid|".
			prevSig = '\n'
			i++
			continue
		}
		w, j := wordAt(s, i)
		words++
		k := j
		for k < len(s) && (s[k] == ' ' || s[k] == '\t') {
			k++
		}
		var next byte
		if k < len(s) {
			next = s[k]
		}
		g := keywords[w]
		if g != 0 {
			for b := 0; b < 7; b++ {
				if g&(1<<b) != 0 {
					dst[fKwSQL+b]++
				}
			}
			distinct++
			if next == '(' {
				dst[fKwFuncCall]++
			}
			if (prevSig == '\'' || prevSig == '"' || prevSig == ')' || prevSig == '`') && g&(gSQL|gSQLLogic|gSQLFunc) != 0 {
				dst[fQuoteKw]++
			}
			// "a;type=sync" is a matrix parameter, not a command: a word
			// followed by "=" is being assigned, not run.
			if g&(gShell) != 0 && next != '=' && isShellSep(prevSig) && !proseAmpersand(s, i, w, k) {
				dst[fSepCmd]++
			}
			if w == "union" {
				sawUnion = true
			} else if w == "select" && sawUnion {
				dst[fUnionSelect]++
			}
		}
		if next == '/' && isShellSep(prevSig) && binDirs[w] {
			// "/usr/bin/" in front of a command is still a command
			// after a separator: keep the separator, skip the slash.
			i = k + 1
			continue
		}
		if next == '(' {
			dst[fFuncCall]++
		}
		if next == '=' && len(w) > 3 && w[0] == 'o' && w[1] == 'n' && prevSig != '&' && prevSig != '?' {
			dst[fEventHandler]++
		}
		prevSig = 'w'
		i = j
	}
	dst[fWords] = float64(words)
	dst[fKwDistinct] = float64(distinct)
}

// systemDirs are the top-level directories of Unix and Windows hosts (and
// of the web servers installed on them) whose files a traversal is after.
// "dev" and "lib" are not here: "/dev/" is a common API prefix and "/lib/"
// a common asset directory.
var systemDirs = map[string]bool{"etc": true, "proc": true, "boot": true, "root": true, "sys": true, "var": true, "usr": true,
	"opt": true, "bin": true, "sbin": true, "srv": true, "private": true, "apache": true, "apache2": true, "httpd": true,
	"xampp": true, "wamp": true, "inetpub": true, "windows": true, "winnt": true, "program files": true}

// webAssets are the extensions of files a site serves on purpose; a path
// ending in one is an asset URL ("/etc/designs/site/logo.png" is how Adobe
// Experience Manager serves them), not a host file.
var webAssets = map[string]bool{"js": true, "mjs": true, "css": true, "png": true, "jpg": true, "jpeg": true, "gif": true,
	"svg": true, "webp": true, "avif": true, "ico": true, "woff": true, "woff2": true, "ttf": true, "html": true, "htm": true, "json": true, "map": true}

// systemPath reports a value that is a whole absolute path to a file under
// a system directory ("/etc/fstab", "\\windows\\win.ini",
// "/apache/logs/error_log"): at least two segments, not ending in "/" and
// not a web asset.
func systemPath(s string) bool {
	if len(s) < 5 || len(s) > 256 || strings.ContainsAny(s, " ?&=") && !strings.HasPrefix(s, "/program files") {
		return false
	}
	// "//etc/mailman/mm_cfg.py": extra leading slashes change nothing
	// for the file system.
	p := strings.ReplaceAll(strings.TrimLeft(s, "/\\"), "\\", "/")
	first, rest, ok := strings.Cut(p, "/")
	if !ok || !systemDirs[first] || rest == "" || strings.HasSuffix(rest, "/") {
		return false
	}
	last := rest[strings.LastIndexByte(rest, '/')+1:]
	if dot := strings.LastIndexByte(last, '.'); dot >= 0 && webAssets[last[dot+1:]] {
		return false
	}
	return true
}

func isShellSep(c byte) bool {
	return c == ';' || c == '|' || c == '&' || c == '`' || c == '\n' || c == '(' || c == '$'
}

// binDirs are the directories commands are run from by full path.
var binDirs = map[string]bool{"usr": true, "bin": true, "sbin": true, "local": true, "system32": true}

var (
	// "--" is counted apart (dashRuns): only a run of exactly two dashes is
	// a comment; "1---" (the IAB US-privacy string on every ad request)
	// and "-----" separators are not.
	sqlCommentPat = []string{"/*", "*/", "#", ";%00"}
	tagPrefixes   = []string{"script", "img", "svg", "iframe", "body", "a ", "input", "details", "video", "audio", "object", "embed", "math", "style", "link", "meta", "form", "marquee", "base", "x ", "div", "isindex", "frameset"}
	templatePat   = []string{"{{", "{%", "<%", "#{", "${", "*{", "@{"}
	// Sensitive paths name the files traversal is after, not bare
	// directories: "/etc/designs/" is where Adobe Experience Manager
	// serves every site's assets, and "/dev/" is a common API prefix.
	sensitivePat = []string{"etc/passwd", "etc/shadow", "etc/hosts", "etc/issue", "etc/group", "etc/nginx", "etc/apache",
		"etc/httpd", "etc/mysql", "etc/ssh", "/proc/", "c:\\", "c:/", "\\windows", "/windows/", "win.ini", "boot.ini",
		"/var/log", "/var/www", "/var/lib", "web-inf", "/bin/sh", "/bin/bash", "bin/cat", ".htaccess", ".ssh/", ".htpasswd",
		"/root/", "_history", "id_rsa", "/.git/", "/.env", "/dev/tcp", "/dev/null", "/usr/local", "/tmp/",
		// The configuration and log files that traversal and local file
		// inclusion read, by name: "\\logs\\access.log", "/web/conf/php.ini".
		"php.ini", "my.cnf", "my.ini", "httpd.conf", "apache2.conf", "nginx.conf", "access.log", "access_log",
		"error.log", "error_log", "wp-config", "web.config", "authorized_keys", "known_hosts",
		// A system directory after a doubled slash, inside a path:
		// "/frontend//opt/lampp/logs/access_log".
		"//etc/", "//var/", "//opt/", "//usr/", "//proc/", "\\etc\\"}
	wrapperPat = []string{"php://", "file://", "data:", "expect://", "zip://", "phar://", "gopher://", "dict://", "glob://", "jar:", "netdoc:", "ldap://", "rmi://",
		// PHP filter chains ("convert.iconv.IBM037.IBM256") build code out of
		// conversions, with or without the php://filter/ in front.
		"convert.iconv.", "convert.base64-", "string.rot13"}
	schemePat = []string{"http://", "https://", "ftp://", "//"}
)

// Substring families counted by patterns, in one pass over the value.
const (
	pgSQLComment = iota
	pgTemplate
	pgSensitive
	pgWrapper
	pgScheme
	numPatternGroups
)

type patternSet struct {
	pats  []string
	group []int
	// byAnchor lists, per byte, the patterns whose first non-alphanumeric
	// byte it is, with that byte's offset: ordinary text is mostly
	// letters, so few positions need a look.
	byAnchor [256][]anchored
}

type anchored struct{ pat, off int }

var patternTable = func() *patternSet {
	ps := &patternSet{}
	defer func() {
		if len(ps.pats) > 96 {
			panic("model: more substring patterns than countPatterns tracks")
		}
	}()
	for g, list := range [numPatternGroups][]string{sqlCommentPat, templatePat, sensitivePat, wrapperPat, schemePat} {
		for _, p := range list {
			off := strings.IndexFunc(p, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') })
			ps.byAnchor[p[off]] = append(ps.byAnchor[p[off]], anchored{len(ps.pats), off})
			ps.pats = append(ps.pats, p)
			ps.group = append(ps.group, g)
		}
	}
	return ps
}()

// countPatterns adds, per enabled group, the number of non-overlapping
// occurrences of each of its patterns: exactly what strings.Count summed
// over the patterns gives (each start is visited once, in order), without
// a scan per pattern.
func countPatterns(s string, enabled *[numPatternGroups]bool, counts *[numPatternGroups]float64) {
	ps := patternTable
	var next [96]int // per pattern: first index a new match may start at
	for i := 0; i < len(s); i++ {
		for _, a := range ps.byAnchor[s[i]] {
			g := ps.group[a.pat]
			start := i - a.off
			if !enabled[g] || start < next[a.pat] {
				continue
			}
			if p := ps.pats[a.pat]; strings.HasPrefix(s[start:], p) {
				counts[g]++
				next[a.pat] = start + len(p)
			}
		}
	}
}

// patterns counts substrings; each family is skipped when a byte all its
// patterns need is absent, which changes no value but saves most of the
// scanning on ordinary text.
func patterns(s string, hist *[256]uint16, dst []float64) {
	var on [numPatternGroups]bool
	var cnt [numPatternGroups]float64
	on[pgSQLComment] = hist['-'] > 0 || hist['/'] > 0 || hist['*'] > 0 || hist['#'] > 0 || hist[';'] > 0
	on[pgTemplate] = hist['{'] > 0 || hist['%'] > 0
	on[pgSensitive] = hist['/'] > 0 || hist['\\'] > 0 || hist['.'] > 0 || hist['-'] > 0 || hist[':'] > 0 || hist['_'] > 0
	on[pgWrapper] = hist[':'] > 0 || hist['/'] > 0 || hist['.'] > 1
	on[pgScheme] = hist[':'] > 0 || hist['/'] > 0
	countPatterns(s, &on, &cnt)
	dst[fSQLComment] = cnt[pgSQLComment]
	if hist['-'] > 1 {
		dst[fSQLComment] += dashRuns(s)
	}
	dst[fTemplate] = cnt[pgTemplate]
	if dst[fTemplate] > 0 && hist['$'] > 0 {
		// "${GDPR}", "${BSW_UUID}": ad-tech macros inside a URL or a path,
		// waiting for a partner to fill them in. A bare name evaluates
		// nothing; expressions ("${7*7}", "${jndi:...}", "${T(...)}") do.
		dst[fTemplate] = max(0, dst[fTemplate]-plainVars(s))
	}
	dst[fSensitivePath] = cnt[pgSensitive]
	dst[fWrapper] = cnt[pgWrapper]
	dst[fURLScheme] = cnt[pgScheme]
	if hist['='] > 0 || hist['<'] > 0 || hist['>'] > 0 {
		dst[fTautology] = tautologies(s)
	}
	if hist['<'] > 0 {
		for i := 0; i < len(s)-1; i++ {
			if s[i] != '<' {
				continue
			}
			c := s[i+1]
			if c >= 'a' && c <= 'z' || c == '/' || c == '!' || c == '?' {
				dst[fTagOpen]++
				for _, p := range tagPrefixes {
					if strings.HasPrefix(s[i+1:], p) {
						dst[fTagOpen] += 2
						break
					}
				}
			}
		}
	}
	if hist[':'] > 0 {
		if strings.Contains(s, "script:") || strings.Contains(s, "script&colon") {
			dst[fJSURI] = 1
		} else if i := strings.Index(s, ":"); i > 0 {
			// "java\tscript:" and "jav&#x09;ascript:" survive naive matching.
			var b [16]byte
			k := 0
			for j := 0; j < i && k < len(b); j++ {
				if c := s[j]; c >= 'a' && c <= 'z' {
					b[k] = c
					k++
				}
			}
			if t := string(b[:k]); strings.HasSuffix(t, "javascript") || strings.HasSuffix(t, "vbscript") {
				dst[fJSURI] = 1
			}
		}
	} else if hist['&'] > 0 && strings.Contains(s, "script&colon") {
		dst[fJSURI] = 1
	}
	if hist['$'] > 0 || hist['`'] > 0 {
		dst[fCmdSubst] = float64(strings.Count(s, "$(") + strings.Count(s, "`")/2 + strings.Count(s, "${ifs") + strings.Count(s, "$ifs"))
		if strings.Contains(s, "$_") {
			// PHP's request superglobals in a value are code being
			// injected: ";{$_GET["cmd"]}".
			for _, g := range []string{"$_get[", "$_post[", "$_request[", "$_cookie[", "$_server[", "$_files["} {
				dst[fCmdSubst] += float64(strings.Count(s, g))
			}
		}
	}
	if hist['j'] > 0 || hist['$'] > 0 {
		if strings.Contains(s, "jndi") || strings.Contains(s, "${::-") || strings.Contains(s, "${lower:") || strings.Contains(s, "${env:") {
			dst[fJNDI] = 1
		}
	}
}

// plainVars counts "${name}" references whose name is letters, digits
// and "_" only.
func plainVars(s string) float64 {
	var n float64
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return n
		}
		s = s[i+2:]
		_, j := wordAt(s, 0)
		if j > 0 && j < len(s) && s[j] == '}' {
			n++
		}
	}
}

// dashRuns counts the runs of exactly two dashes that can start a SQL
// comment: not "15--1", which is arithmetic (15 - -1) and how many
// trackers join numbers.
func dashRuns(s string) float64 {
	var n float64
	for i := 0; i < len(s); {
		if s[i] != '-' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '-' {
			j++
		}
		if j-i == 2 && !(j < len(s) && s[j] >= '0' && s[j] <= '9') {
			n++
		}
		i = j
	}
	return n
}

// tautologies counts "x=x"-shaped comparisons ("1=1", "'a'='a", "2>1"):
// both sides short and either equal or both numeric.
func tautologies(s string) float64 {
	var n float64
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		if c != '=' && c != '>' && c != '<' {
			continue
		}
		l := operand(s, i-1, -1)
		r := operand(s, i+1, 1)
		if l == "" || r == "" {
			continue
		}
		if l == r || isNum(l) && isNum(r) && (c != '=' || logicBefore(s, i-1)) {
			// "1=1" always; "2>1" and "1=2" in a condition ("or 1=2"),
			// not in a list of numbered values ("0=9058,1=7897").
			n++
			continue
		}
		// "1or1=1": MySQL reads "or" right after a number as the
		// operator, no spaces needed.
		if t := afterGluedLogic(l); t != "" && (t == r || isNum(t) && isNum(r)) {
			n++
		}
	}
	return n
}

// logicBefore reports a SQL condition keyword, a quote or an opening
// parenthesis before the operand that ends at position i.
func logicBefore(s string, i int) bool {
	for i >= 0 && (s[i] <= ' ' || s[i] == '+') {
		i--
	}
	for i >= 0 && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
		i--
	}
	for i >= 0 && (s[i] <= ' ' || s[i] == '+') {
		i--
	}
	if i < 0 {
		return false
	}
	switch s[i] {
	case '\'', '"', '(', '`':
		return true
	}
	j := i
	for j >= 0 && s[j] >= 'a' && s[j] <= 'z' {
		j--
	}
	switch s[j+1 : i+1] {
	case "or", "and", "xor", "where", "having", "when", "if", "not", "on":
		return true
	}
	return false
}

func operand(s string, i, dir int) string {
	for i >= 0 && i < len(s) && (s[i] == ' ' || s[i] == '\'' || s[i] == '"' || s[i] == '(' || s[i] == ')') {
		i += dir
	}
	j := i
	for j >= 0 && j < len(s) && j-i < 12 && j-i > -12 && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
		j += dir
	}
	if dir < 0 {
		if j+1 > i {
			return ""
		}
		return s[j+1 : i+1]
	}
	if i >= j {
		return ""
	}
	return s[i:j]
}

func isNum(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// trivial reports a field too plain to carry any of the modelled attacks,
// so the model is not asked: identifiers, numbers, UUIDs, e-mail
// addresses, tokens, and plain words and sentences without SQL words. Each
// class needs something this excludes: quotes, operators or SQL words for
// SQLi, markup, quotes or parentheses for XSS, shell separators or
// template braces for RCE, slashes or dots for traversal. Eval measures
// that the prefilter loses no detection.
func trivial(raw string, plusIsSpace bool) bool {
	if len(raw) > 512 {
		return false
	}
	space := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == ' ' || c == '+' && plusIsSpace {
			space = true
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '@' || c == ':' || c == ',' || c == '!' || c == '?') {
			return false
		}
	}
	if strings.Contains(raw, "..") || strings.Contains(raw, "--") || strings.Contains(raw, "@@") || hexPathLiteral(raw) {
		return false
	}
	if len(raw) >= minBase64Text && !space {
		// Unpadded base64 of text is letters and digits only, and is
		// read as the text it decodes to (see normalize).
		if _, ok := base64Text(raw); ok {
			return false
		}
	}
	return !space || !hasSQLWord(raw)
}

// hexPathLiteral reports "0x2e", "0x2f" or "0x5c" in any case: the
// spelled-out path characters that normalize decodes (hexPathChars).
func hexPathLiteral(raw string) bool {
	for i := 0; i+3 < len(raw); i++ {
		if raw[i] == '0' && raw[i+1]|0x20 == 'x' {
			switch strings.ToLower(raw[i+2 : i+4]) {
			case "2e", "2f", "5c":
				return true
			}
		}
	}
	return false
}

// sqlWords can make an injection out of nothing but words and spaces in a
// numeric context ("1 or true", "1 union select null").
var sqlWords = map[string]bool{"or": true, "and": true, "xor": true, "union": true, "select": true,
	"sleep": true, "having": true, "order": true, "waitfor": true, "like": true, "exec": true,
	"execute": true, "drop": true, "insert": true, "delete": true, "update": true, "rlike": true, "div": true}

func hasSQLWord(s string) bool {
	for i := 0; i < len(s); {
		for i < len(s) && !isLetter(s[i]) {
			i++
		}
		j := i
		for j < len(s) && isLetter(s[j]) {
			j++
		}
		if j-i >= 2 && j-i <= 7 {
			var buf [7]byte
			for k := i; k < j; k++ {
				buf[k-i] = s[k] | 0x20
			}
			if sqlWords[string(buf[:j-i])] {
				return true
			}
		}
		i = j
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// plainNegotiation reports an Accept-style header value that is exactly a
// list of "token[/token](;param=value)*" items: a grammar with no room for
// any modelled payload, and one of the most frequent headers there is.
func plainNegotiation(v string) bool {
	if len(v) > 512 || strings.Contains(v, "..") || strings.Contains(v, "//") {
		return false
	}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		mr, params, _ := strings.Cut(item, ";")
		typ, sub, slash := strings.Cut(mr, "/")
		if !negToken(typ) || (slash && !negToken(sub)) {
			return false
		}
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !negToken(k) || !negToken(strings.Trim(val, `"`)) {
				return false
			}
		}
	}
	return true
}

func negToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '*' || c == '+' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Prefiltered reports whether the model skips f as plainly harmless.
func Prefiltered(f *Field) bool {
	if f.Part == PartHeader {
		switch f.Name {
		case "accept", "accept-language", "accept-charset":
			if plainNegotiation(f.Raw) {
				return true
			}
		}
	}
	return trivial(f.Raw, f.formEncoded) || macro(f.Raw)
}

// macro reports a value that is one unexpanded template placeholder and
// nothing else: "<vsid>", "${GDPR_CONSENT_755}", "[timestamp]",
// "%%CACHEBUSTER%%", "__UID__". Ad-tech and analytics URLs are full of them
// (a cookie-sync redirect carries the partner's macro until the partner
// fills it in). None can carry a modelled attack: a tag with no attributes
// and no HTML name runs nothing, a "${NAME}" of capitals only evaluates no
// expression. HTML element names ("<script>", "<svg>") and lower-case
// "${...}" or "{{...}}" (template probes such as "{{config}}") are scored.
func macro(raw string) bool {
	if len(raw) < 3 || len(raw) > 96 {
		return false
	}
	// Every form starts with one of these, or with its percent-escape:
	// most fields are out before anything is decoded.
	if c := raw[0]; c != '<' && c != '$' && c != '[' && c != '%' && c != '_' {
		return false
	}
	if strings.IndexByte(raw, '%') >= 0 && !strings.HasPrefix(raw, "%%") {
		d, _ := percentDecode(raw, false)
		raw = d
	}
	ident := func(s string, upperOnly bool) bool {
		if s == "" || s[0] >= '0' && s[0] <= '9' {
			return false
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			case c >= 'a' && c <= 'z' || c == '-':
				if upperOnly {
					return false
				}
			default:
				return false
			}
		}
		return true
	}
	n := len(raw)
	switch {
	case raw[0] == '<' && raw[n-1] == '>':
		name := raw[1 : n-1]
		return ident(name, false) && !htmlElements[strings.ToLower(name)]
	case strings.HasPrefix(raw, "${") && raw[n-1] == '}':
		return ident(raw[2:n-1], true)
	case raw[0] == '[' && raw[n-1] == ']':
		return ident(raw[1:n-1], false)
	case n > 4 && strings.HasPrefix(raw, "%%") && strings.HasSuffix(raw, "%%"):
		return ident(raw[2:n-2], false)
	case n > 4 && strings.HasPrefix(raw, "__") && strings.HasSuffix(raw, "__"):
		return ident(raw[2:n-2], true)
	}
	return false
}

// htmlElements are the element names browsers give behaviour to, among
// them every tag XSS payloads use; "<x>" stays scored too.
var htmlElements = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Fields(`a abbr address animate animatemotion animatetransform applet area article aside audio b base
		basefont bdi bdo bgsound big blink blockquote body br button canvas caption center cite code col colgroup command
		data datalist dd del details dfn dialog dir div dl dt element em embed fieldset figcaption figure font footer
		foreignobject form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe ilayer image img input
		ins isindex kbd keygen label layer legend li link listing main map mark marquee math menu menuitem meta meter
		multicol nav nextid nobr noembed noframes noscript object ol optgroup option output p param picture plaintext
		portal pre progress q rb rp rt rtc ruby s samp script search section select set shadow slot small source spacer
		span strike strong style sub summary sup svg table tbody td template textarea tfoot th thead time title tr track
		tt u ul use var video wbr x xml xmp xss`) {
		m[t] = true
	}
	return m
}()
