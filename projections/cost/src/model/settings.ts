import { DEFAULT_PRICE_BOOK, Timeline, type PriceBook } from './timeline.js';

/**
 * Every cluster's price books and idle-sharing settings over time, as the
 * events so far have set them. A cluster no event has priced costs the
 * default price book; idle cost is not shared until a cluster says so.
 */
export class ClusterSettings {
  private readonly priceBooks = new Map<string, Timeline<PriceBook>>();
  private readonly idleSharing = new Map<string, Timeline<boolean>>();

  prices(clusterId: string): Timeline<PriceBook> {
    let timeline = this.priceBooks.get(clusterId);
    if (!timeline) this.priceBooks.set(clusterId, (timeline = new Timeline(DEFAULT_PRICE_BOOK)));
    return timeline;
  }

  sharing(clusterId: string): Timeline<boolean> {
    let timeline = this.idleSharing.get(clusterId);
    if (!timeline) this.idleSharing.set(clusterId, (timeline = new Timeline(false)));
    return timeline;
  }

  setPriceBook(clusterId: string, from: number, book: PriceBook): void {
    this.prices(clusterId).set(from, book);
  }

  setSharing(clusterId: string, from: number, shared: boolean): void {
    this.sharing(clusterId).set(from, shared);
  }
}
