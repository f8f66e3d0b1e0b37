// Promise.withResolvers arrived in Node 22; libp2p 2.x calls it. Imported before anything from
// libp2p (ES modules evaluate in import order), so it is in place when their modules load.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve
    let reject
    const promise = new this((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise, resolve, reject }
  }
}
