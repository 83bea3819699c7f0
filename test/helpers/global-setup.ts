export default function setup() {
  if (process.env.DREAMLAKE_TEST_POSTGRES_URL) {
    console.log(`PostgreSQL tests: running against ${redact(process.env.DREAMLAKE_TEST_POSTGRES_URL)}`);
  } else {
    console.log(
      '\n*** PostgreSQL tests SKIPPED: DREAMLAKE_TEST_POSTGRES_URL is not set (SQLite only). ' +
        'Set it, e.g. postgres://postgres@127.0.0.1:5432/test, to run them. ***\n',
    );
  }
}

function redact(url: string) {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
