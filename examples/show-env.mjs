// Demo child: says which of the named variables it received, and their length, never their value.
for (const name of process.argv.slice(2)) {
  const value = process.env[name];
  console.log(value === undefined ? `${name}: not set` : `${name}: set (${value.length} characters)`);
}
