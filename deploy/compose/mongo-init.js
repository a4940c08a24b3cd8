// Initiates the compose stack's replica set rs0 once, then waits until it has a primary.
// Run by the `mongo-init` service: mongosh --host mongo1:27017 /mongo-init.js
const config = {
  _id: "rs0",
  members: [
    { _id: 0, host: "mongo1:27017", priority: 2 },
    { _id: 1, host: "mongo2:27017", priority: 1 },
    { _id: 2, host: "mongo3:27017", priority: 1 },
  ],
};
try {
  rs.initiate(config);
  print("replica set rs0 initiated");
} catch (e) {
  if (e.code !== 23) throw e; // 23 AlreadyInitialized
  print("replica set rs0 already initiated");
}
for (let i = 0; i < 120; i++) {
  if (db.hello().isWritablePrimary) {
    print("rs0 has a primary");
    quit(0);
  }
  sleep(1000);
}
print("rs0 has no primary after 120 s");
quit(1);
