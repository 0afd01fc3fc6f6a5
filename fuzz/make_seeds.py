#!/usr/bin/env python3
import hmac, hashlib, json, os, re, glob
# Writes the hand-made seeds of fuzz/corpus (run from anywhere; existing seeds of the same name are
# overwritten, seeds the fuzzer added are left alone). The delivery seeds are signed, hence a script.
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
root = os.path.join(HERE, 'corpus')
def w(target, name, data):
    if isinstance(data, str): data = data.encode()
    open(os.path.join(root, target, name), 'wb').write(data)

# ---- delivery: line 1 signature header, line 2 secret, rest body (docs/docspace-api.md §1.6 examples, compact)
secret = 'S3cret-Key_42'
def sig(body, key=secret, upper=True):
    h = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    return 'sha256=' + (h.upper() if upper else h)
G = '66faa6e4-f133-11ea-b126-00ffeec8b4ef'
bodies = {
 'file-created': {"event":{"id":4821,"createOn":"2026-06-30T10:15:42Z","createBy":G,"trigger":"file.created","triggerId":128},
   "payload":{"id":1234,"parentId":567,"securityByUsers":{},"folderIdDisplay":567,"rootId":3,"title":"Invoice-0042.docx","createBy":G,"modifiedBy":G,"createOn":"2026-06-30T10:15:41Z","modifiedOn":"2026-06-30T10:15:41Z","rootFolderType":14,"rootCreateBy":G,"fileEntryType":2},
   "webhook":{"id":7,"name":"automation","url":"https://hooks.example.com/docspace","triggers":["file.created","file.uploaded","room.created"]}},
 'room-created': {"event":{"id":4822,"createOn":"2026-06-30T10:20:00Z","createBy":G,"trigger":"room.created","triggerId":4194304},
   "payload":{"id":890,"parentId":3,"securityByUsers":{},"folderIdDisplay":3,"rootId":3,"title":"Client ACME","createBy":G,"modifiedBy":G,"createOn":"2026-06-30T10:20:00Z","modifiedOn":"2026-06-30T10:20:00Z","rootFolderType":14,"rootCreateBy":G,"fileEntryType":1},
   "webhook":{"id":7,"name":"automation","url":"https://hooks.example.com/docspace","triggers":["*"]}},
 'folder-updated-target': {"event":{"id":4830,"createOn":"2026-06-30T10:21:00Z","createBy":G,"trigger":"folder.updated","triggerId":65536},
   "payload":{"id":567,"parentId":890,"securityByUsers":{},"folderIdDisplay":890,"rootId":3,"title":"Incoming","rootFolderType":14,"fileEntryType":1},
   "webhook":{"id":9,"name":"watch-567","url":"https://h.example.com/x","triggers":["folder.updated"],"target":{"id":567,"type":"folder"}}},
 'user-created': {"event":{"id":4840,"createOn":"2026-06-30T10:25:01Z","createBy":G,"trigger":"user.created","triggerId":1},
   "payload":{"id":"5e0b5d7c-2f6e-4b8e-9a51-1c2d3e4f5a6b","firstName":"Jane","lastName":"Doe","userName":"jane.doe","status":1,"activationStatus":1,"email":"jane.doe@example.com","lastModified":"2026-06-30T10:25:01.537Z","tenantId":1,"isActive":True,"cultureName":"en-US","createDate":"2026-06-30T10:25:01Z","createdBy":G},
   "webhook":{"id":7,"name":"automation","url":"https://h.example.com/x","triggers":["user.created"]}},
 'group-created': {"event":{"id":4850,"createOn":"2026-06-30T10:26:00Z","createBy":G,"trigger":"group.created","triggerId":16},
   "payload":{"id":"b1f7c3a2-0000-4000-8000-000000000016","name":"Sales","authenticationType":"ASC","key":"b1f7c3a2-0000-4000-8000-000000000016"},
   "webhook":{"id":7,"name":"automation","url":"https://h.example.com/x","triggers":["*"]}},
 'form-submit': {"event":{"id":4860,"createOn":"2026-06-30T11:00:00Z","createBy":G,"trigger":"form.submit","triggerId":268435456},
   "payload":{"originalForm":{"id":300,"parentId":890,"title":"Application.pdf","fileEntryType":2,"rootId":3},"submittedForm":{"id":412,"parentId":415,"title":"Application - Jane Doe.pdf","fileEntryType":2}},
   "webhook":{"id":7,"name":"automation","url":"https://h.example.com/x","triggers":["form.submit"]}},
 'retry-2': {"event":{"id":4821,"createOn":"2026-06-30T10:15:42Z","createBy":G,"trigger":"file.created","triggerId":128},
   "payload":{"id":1234,"parentId":567,"title":"Invoice-0042.docx","fileEntryType":2},
   "webhook":{"id":7,"name":"automation","url":"https://hooks.example.com/docspace","triggers":["file.created"],"lastFailureOn":"2026-06-30T10:15:43Z","lastFailureContent":"Response status code does not indicate success: 503 (Service Unavailable).","lastSuccessOn":"2026-06-29T08:00:00","retryCount":2,"retryOn":"2026-06-30T10:15:46Z"}},
 'no-event-id': {"event":{"createOn":"2026-06-30T10:15:42Z","trigger":"file.deleted","triggerId":512},"payload":{"id":"sbox-77|folder/a.docx","parentId":"sbox-77|folder","title":"a.docx","fileEntryType":2}},
 'string-ids-third-party': {"event":{"id":"4900","createOn":"2026-06-30T10:15:42.1234567+03:00","trigger":"file.moved"},"payload":{"id":"box-12|x","parentId":"box-12|"},"webhook":{"id":"7"}},
 'minimal': {"event":{"trigger":"file.created"}},
 'wrong-types': {"event":{"id":[1],"createOn":5,"createBy":None,"trigger":"file.created","triggerId":"x"},"payload":[],"webhook":{"id":{},"retryCount":"2"}},
}
for name, obj in bodies.items():
    body = json.dumps(obj, separators=(',', ':'), ensure_ascii=False).encode()
    w('delivery', name, (sig(body) + '\n' + secret + '\n').encode() + body)
fc = json.dumps(bodies['file-created'], separators=(',', ':')).encode()
w('delivery', 'lowercase-mac-with-ows', ('\t ' + sig(fc, upper=False) + ' \n' + secret + '\n').encode() + fc)
w('delivery', 'wrong-secret', (sig(fc, key='another-secret') + '\n' + secret + '\n').encode() + fc)
w('delivery', 'malformed-prefix', ('SHA256=' + sig(fc)[7:] + '\n' + secret + '\n').encode() + fc)
w('delivery', 'short-mac', (sig(fc)[:-1] + '\n' + secret + '\n').encode() + fc)
w('delivery', 'no-header', ('\n' + secret + '\n').encode() + fc)
# line 1 read as the event-id / timestamp transport headers too (docs/docspace-api.md §5)
w('delivery', 'timestamp-header-seconds', ('1782814542\n' + secret + '\n').encode() + fc)
w('delivery', 'timestamp-header-millis', ('1782814542000\n' + secret + '\n').encode() + fc)
w('delivery', 'timestamp-header-iso', ('2026-06-30T10:15:42Z\n' + secret + '\n').encode() + fc)
w('delivery', 'event-id-header', ('4821\n' + secret + '\n').encode() + fc)
# hostile bodies: non-UTF-8, not JSON, nesting just inside and just past the limit
latin1 = b'{"event":{"trigger":"file.created"},"payload":{"title":"Rechnung f\xfcr M\xe4rz.docx"}}'
w('delivery', 'latin1-body', (sig(latin1) + '\n' + secret + '\n').encode() + latin1)
binary = bytes(range(256))
w('delivery', 'binary-body', (sig(binary) + '\n' + secret + '\n').encode() + binary)
deep_ok = b'{"event":{"trigger":"file.created"},"payload":' + b'[' * 62 + b']' * 62 + b'}'
w('delivery', 'nesting-within-limit', (sig(deep_ok) + '\n' + secret + '\n').encode() + deep_ok)
deep = b'{"event":{"trigger":"file.created"},"payload":' + b'{"a":' * 80 + b'1' + b'}' * 80 + b'}'
w('delivery', 'nesting-past-limit', (sig(deep) + '\n' + secret + '\n').encode() + deep)
esc = '{"event":{"trigger":"file.created","createBy":"\\u0000\\ud83d\\ude00\\"[[["},"payload":{"title":"\\\\"}}'.encode()
w('delivery', 'escapes-and-brackets-in-strings', (sig(esc) + '\n' + secret + '\n').encode() + esc)
num = b'{"event":{"id":18446744073709551615,"trigger":"file.created","triggerId":-9223372036854775808},"payload":{"id":1e400},"webhook":{"retryCount":99999999999}}'
w('delivery', 'extreme-numbers', (sig(num) + '\n' + secret + '\n').encode() + num)

# ---- config_rules: the golden rule files, docs/ examples, a two-file merge
for path in sorted(glob.glob(os.path.join(REPO, 'tests/rules/*/rules.yaml'))):
    w('config_rules', 'golden-' + path.split('/')[-2] + '.yaml', open(path, 'rb').read())
for doc in ['rules', 'configuration']:
    s = open(os.path.join(REPO, 'docs/%s.md' % doc)).read()
    for i, block in enumerate(re.findall(r'```yaml\n(.*?)```', s, re.S)):
        w('config_rules', 'docs-%s-%d.yaml' % (doc, i), block)
sep = '\n--- next file ---\n'
w('config_rules', 'merge-two-files.yaml',
  'server:\n  listen: 127.0.0.1:8080\nwebhook:\n  secrets: [one-secret-1, two-secret-2]\nchat:\n  channels:\n    ops: { kind: slack, url: "${SLACK_URL}" }\n'
  + sep +
  'server: { body_limit: 64KiB, header_timeout: 250ms }\nrules:\n  - name: notify\n    on: ["file.*"]\n    do:\n      - chat: { channel: ops, text: "{{ payload.title | default(\'?\') }}" }\n')
w('config_rules', 'yaml-anchors-tags.yaml',
  'base: &b { starts_with: inv }\nrules:\n  - name: a\n    on: [file.created]\n    if: { title: *b }\n    do: [ { move: { to: !!str 0567 } } ]\n')
w('config_rules', 'duplicate-key.yaml', 'rules: []\nrules: []\n')
w('config_rules', 'scalars.yaml', 'server:\n  listen: ${PORT:-9}\n  body_limit: 0x10\n  threads: 1e3\n  max_connections: -1\nrunner: { retry: { base: 5m, max: 1s } }\nlog: { level: ~ }\n')

# ---- template: tricky templates
templates = [
 'Invoice uploaded: {{ file.title }}',
 '{{ steps.room.id }}',
 'Home - {{ user.displayName ?? payload.userName ?? payload.email }}',
 "Hello {{ payload.firstName ?? 'there' }}, your room is ready: {{ steps.room.webUrl }}",
 '{{ payload.title | trim | lower | urlencode }}',
 '{{ payload.missing | default("n/a") | upper }}',
 '{{ payload.tags[1] }} {{ payload["nested"].list[0][1] }} {{ payload.tags | json }}',
 '{{ payload.nested | json }}',
 '{{ payload.nested.quote | urlencode }}',
 '{{ payload.nothing ?? payload.empty ?? -42 }}',
 '{{ "a \\"quoted\\" \\n literal" }}',
 "{{ 'single' | upper }}",
 '{{ payload.tags[18446744073709551616] }}',
 '{{ payload.size }} {{ payload.big }} {{ payload.negative }} {{ payload.flag }}',
 '{{ payload.nested.list[1] | lower }}',
 '{{ steps.mail.id }}{{steps.room.title}}',
 'no braces at all',
 '{{ unclosed',
 '{{ }}',
 '{{ a ?? }}',
 '{{ a | unknown }}',
 '{{ a | default }}',
 '{{ a | lower("x") }}',
 '{{ a[ }}',
 '{{ a. }}',
 '{{ 1234567890123456789 }}',
 '{{ -123456789012345678 }}',
 '{{ entity.kind }}/{{ rule.name }}/{{ run.key }}',
 '{{ event.createOn }} by {{ actor.email ?? event.createBy }}',
 '{{ room.title }} \xc3\xbc {{ file.fileExst | upper }}',
 '{{ folder.title }}}}}{{{{ file.id }}',
]
for i, t in enumerate(templates):
    w('template', 'template-%02d' % i, t)
w('template', 'invalid-utf8-literal', b'{{ "\xff\xfe" | json }} and \xc3\x28')
print('seeds written to', root)
