package io.gpupool.operator.metrics;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Asks the API server: TokenReview for tokens, SubjectAccessReview for the metrics path. */
final class ApiServerReviewer implements MetricsAccess.Reviewer {
  private final KubernetesClient client;

  ApiServerReviewer(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public Optional<MetricsAccess.User> authenticate(String token) {
    TokenReview review =
        client
            .resource(new TokenReviewBuilder().withNewSpec().withToken(token).endSpec().build())
            .create();
    if (review.getStatus() == null
        || !Boolean.TRUE.equals(review.getStatus().getAuthenticated())
        || review.getStatus().getUser() == null) {
      return Optional.empty();
    }
    var user = review.getStatus().getUser();
    return Optional.of(
        new MetricsAccess.User(
            user.getUsername(),
            user.getGroups() == null ? List.of() : user.getGroups(),
            user.getExtra() == null ? Map.of() : user.getExtra()));
  }

  @Override
  public boolean allowed(MetricsAccess.User user, String verb, String path) {
    SubjectAccessReview review =
        client
            .resource(
                new SubjectAccessReviewBuilder()
                    .withNewSpec()
                    .withUser(user.name())
                    .withGroups(user.groups())
                    .withExtra(user.extra())
                    .withNewNonResourceAttributes()
                    .withPath(path)
                    .withVerb(verb)
                    .endNonResourceAttributes()
                    .endSpec()
                    .build())
            .create();
    return review.getStatus() != null && Boolean.TRUE.equals(review.getStatus().getAllowed());
  }
}
