/** A growable ring buffer: O(1) push and pop at both ends, iteration in order. */
export class Deque<A> {
  private items: Array<A | undefined> = new Array(16)
  private head = 0
  private count = 0

  get length(): number {
    return this.count
  }

  pushBack(item: A): void {
    this.grow()
    this.items[(this.head + this.count) & (this.items.length - 1)] = item
    this.count++
  }

  pushFront(item: A): void {
    this.grow()
    this.head = (this.head - 1) & (this.items.length - 1)
    this.items[this.head] = item
    this.count++
  }

  popFront(): A | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) & (this.items.length - 1)
    this.count--
    return item
  }

  peekFront(): A | undefined {
    return this.count === 0 ? undefined : this.items[this.head]
  }

  /** Items from `offset`, at most `limit` of them, front first. */
  slice(offset: number, limit: number): Array<A> {
    const out: Array<A> = []
    const end = Math.min(this.count, offset + limit)
    for (let i = Math.max(0, offset); i < end; i++) {
      out.push(this.items[(this.head + i) & (this.items.length - 1)] as A)
    }
    return out
  }

  private grow(): void {
    if (this.count < this.items.length) return
    const next: Array<A | undefined> = new Array(this.items.length * 2)
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)]
    this.items = next
    this.head = 0
  }
}
