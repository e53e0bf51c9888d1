package leak

// SchemaVersion names the feature layout; a model trained on another
// layout is refused at load.
const SchemaVersion = "leak-features/3"

// Feature indices. Counts are of validated matches (a Luhn-valid card, an
// IBAN whose mod-97 checks, an AWS key id of the right shape), not of regex
// hits; the *PerKB features are densities.
const (
	// secret
	FAWSKeyID = iota
	FAWSKeyIDExample
	FAWSSecret
	FPrivateKey
	FPrivateKeyBody
	FJWT
	FJWTExample
	FStripeLive
	FStripeTest
	FGitHubToken
	FSlackToken
	FGoogleKey
	FOtherToken
	FPasswordHash
	FConnString
	FSecretAssign
	FSecretMasked
	FTokenAssign
	FOAuthContext
	// pii
	FEmail
	FEmailDistinct
	FEmailExample
	FEmailPerKB
	FPhone
	FPhonePerKB
	FCard
	FCardTest
	FIBAN
	FIBANExample
	FSSN
	FNationalID
	FPIIKey
	FPIIKeyPerKB
	// error
	FJavaFrame
	FPythonTrace
	FPythonFrame
	FGoPanic
	FGoFrame
	FNodeFrame
	FPHPError
	FDotNetError
	FDotNetFrame
	FDjangoDebug
	FRailsError
	FRubyFrame
	FSpringError
	FExpressError
	FSQLMySQL
	FSQLPostgres
	FSQLMSSQL
	FSQLOracle
	FSQLSQLite
	FSQLGeneric
	FExceptionWord
	FErrorPage
	FFramesPerKB
	// source
	FPHPOpen
	FPHPEscaped
	FEnvLine
	FEnvSecretKey
	FEnvLineFrac
	FCodeLine
	FCodeLineFrac
	FIniSection
	FPasswdLine
	FGitMeta
	FDirListing
	FConfigKey
	FSQLDump
	FDirectiveLine
	FShebang
	// shape
	FLogBytes
	FLines
	FTagsPerKB
	FBracesPerKB
	FQuotesPerKB
	FProsePerKB
	FKindJSON
	FKindHTML
	FKindXML
	FKindText
	// context: where the error evidence sits in the body, and the HTTP
	// status (0 when unknown). A trace that is the whole body is an error
	// response; one between paragraphs, inside <pre>/<code>, is quoted.
	FStatus5xx
	FStatusOK
	FWords
	FErrWordsBefore
	FErrWordsAfter
	FErrSpanFrac
	FErrInCode
	FCodeBlocks
	FLinks
	FErrJSONKey
	FSrcInCode
	NumFeatures
)

// FeatureNames are the names of the features, in index order; the trainer
// and the model file use them.
var FeatureNames = [NumFeatures]string{
	"aws_key_id", "aws_key_id_example", "aws_secret", "private_key", "private_key_body", "jwt", "jwt_example",
	"stripe_live", "stripe_test", "github_token", "slack_token", "google_key", "other_token", "password_hash",
	"conn_string", "secret_assign", "secret_masked", "token_assign", "oauth_context",
	"email", "email_distinct", "email_example", "email_per_kb", "phone", "phone_per_kb", "card", "card_test",
	"iban", "iban_example", "ssn", "national_id", "pii_key", "pii_key_per_kb",
	"java_frame", "python_trace", "python_frame", "go_panic", "go_frame", "node_frame", "php_error",
	"dotnet_error", "dotnet_frame", "django_debug", "rails_error", "ruby_frame", "spring_error", "express_error",
	"sql_mysql", "sql_postgres", "sql_mssql", "sql_oracle", "sql_sqlite", "sql_generic", "exception_word", "error_page", "frames_per_kb",
	"php_open", "php_escaped", "env_line", "env_secret_key", "env_line_frac", "code_line", "code_line_frac",
	"ini_section", "passwd_line", "git_meta", "dir_listing", "config_key", "sql_dump", "directive_line", "shebang",
	"log_bytes", "lines", "tags_per_kb", "braces_per_kb", "quotes_per_kb", "prose_per_kb",
	"kind_json", "kind_html", "kind_xml", "kind_text",
	"status_5xx", "status_ok", "words", "err_words_before", "err_words_after", "err_span_frac", "err_in_code",
	"code_blocks", "links", "err_json_key", "src_in_code",
}

// Classes are the leakage classes, in model order.
var Classes = []string{"secret", "pii", "error", "source"}

// Class indices into Classes.
const (
	ClassSecret = iota
	ClassPII
	ClassError
	ClassSource
	numClasses
)

// evidence lists the features that count detections. A body with none of
// them is clean without consulting the trees: the model cannot find a
// leak in a body where no detector fired, and the prefilter makes that
// the fast path.
var evidence = func() [NumFeatures]bool {
	var e [NumFeatures]bool
	for f := 0; f < FLogBytes; f++ {
		e[f] = true
	}
	// Framing and densities describe a body; they are no detection.
	for _, f := range []int{FEmailPerKB, FPhonePerKB, FPIIKeyPerKB, FFramesPerKB, FEnvLineFrac, FCodeLineFrac, FCodeLine, FEmailDistinct, FErrorPage} {
		e[f] = false
	}
	return e
}()

// featureClass says which class a detection feature is evidence of, for
// locations and spans.
var featureClass = func() [NumFeatures]int {
	var c [NumFeatures]int
	for f := range c {
		switch {
		case f <= FOAuthContext:
			c[f] = ClassSecret
		case f <= FPIIKeyPerKB:
			c[f] = ClassPII
		case f <= FFramesPerKB:
			c[f] = ClassError
		default:
			c[f] = ClassSource
		}
	}
	return c
}()
