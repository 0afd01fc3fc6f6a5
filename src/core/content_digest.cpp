#include "core/content_digest.hpp"

#include "core/hmac_sha256.hpp"

namespace spacehook {

std::string DeliveryContentDigest(std::string_view trigger, std::string_view create_on,
                                  std::string_view create_by, const Json& payload) {
    // A newline separates the parts so ("a", "bc") and ("ab", "c") cannot collide; nlohmann's dump() sorts
    // object keys, so the payload text does not depend on the sender's key order or whitespace. Journals
    // written by earlier versions hold keys made from exactly this material: it must not change.
    std::string material;
    material.reserve(256);
    material.append(trigger).append(1, '\n');
    material.append(create_on).append(1, '\n');
    material.append(create_by).append(1, '\n');
    material.append(payload.dump());
    return Sha256Hex(material);
}

}  // namespace spacehook
