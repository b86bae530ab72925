/**
 * Gossip.Read: a cluster of one alive leader, this server, so that
 * `esdb+discover://` connection strings and node preferences resolve to it.
 */
import { randomUUID } from 'node:crypto';
import type { handleUnaryCall } from '@grpc/grpc-js';
import { ClusterInfo, EndPoint, MemberInfo, uuidMessage, type Empty } from './protocol.js';

/** .NET ticks between 0001-01-01 and the Unix epoch, for `time_stamp`. */
const UNIX_EPOCH_TICKS = 621_355_968_000_000_000n;

export function gossipHandler(endpoint: () => { host: string; port: number }): handleUnaryCall<Empty, InstanceType<typeof ClusterInfo>> {
  const instanceId = randomUUID();
  return (_call, callback) => {
    const { host, port } = endpoint();
    const httpEndPoint = new EndPoint();
    httpEndPoint.setAddress(host);
    httpEndPoint.setPort(port);
    const member = new MemberInfo();
    member.setInstanceId(uuidMessage(instanceId, false));
    member.setTimeStamp((UNIX_EPOCH_TICKS + BigInt(Date.now()) * 10_000n).toString(10));
    member.setState(MemberInfo.VNodeState.LEADER);
    member.setIsAlive(true);
    member.setHttpEndPoint(httpEndPoint);
    const info = new ClusterInfo();
    info.setMembersList([member]);
    callback(null, info);
  };
}
